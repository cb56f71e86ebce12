using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Dls.Audio;
using Dls.Audio.IO;
using Dls.Audio.Plots;
using Dls.Audio.Resampling;
using Dls.Compression.Counting;
using Dls.Compression.LowRank;
using Dls.Models.Checkpoints;
using Dls.Models.Denoising;
using Dls.Models.Training;
using Dls.Samples.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Samples.Denoising;

/// <summary>The speech-denoising sample: trains and compresses the mask networks, denoises and evaluates files.</summary>
public sealed class DenoisingPlugin : ISamplePlugin
{
    /// <inheritdoc />
    public string Name => "denoise";

    /// <inheritdoc />
    public string Description => "Speech denoising with STFT mask networks (FC per frame, causal GRU), compressed variants, oracle masks.";

    /// <inheritdoc />
    public IReadOnlyList<SampleTask> Tasks { get; } =
    [
        new SampleTask("denoise-train", "Train the FC and GRU mask networks, compress them (SVD + fine-tuning), evaluate against oracle masks.", DenoisingTraining.RunAsync) { Order = 30 },
    ];

    /// <inheritdoc />
    public IReadOnlyList<BenchmarkArea> Benchmarks { get; } =
    [
        new BenchmarkArea("denoise", "Real-time factor of each shipped denoiser and training throughput (frames/s).", DenoisingBench.RunAsync),
    ];

    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddDlsDenoiser();
        // weights import of fc-mask / gru-mask saves a denoiser checkpoint (rate, STFT settings), not a bare one.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IImportedModelWriter, MaskNetworkImportWriter>());
    }

    /// <inheritdoc />
    public IEnumerable<Command> CreateCommands(ISampleHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        yield return DenoiseCommand(host);
        yield return EvalCommand(host);
    }

    private static Command DenoiseCommand(ISampleHost host)
    {
        var inputs = PathArguments.OneOrMore("inputs", "Noisy WAV files or folders of WAV files.");
        var output = new Option<string>("--out") { Description = "Output folder (or a .wav file when there is one input file).", Required = true };
        var model = new Option<string?>("--model") { Description = "Mask-network checkpoint (default: the shipped model)." };
        var command = new Command("denoise", "Denoise WAV files with a mask network.") { inputs, output, model };
        // Where the outputs go is checked while parsing (a usage error, exit 2): an --out file for many inputs, an output
        // that would replace an input, two inputs landing on one output. A missing input, or a folder that cannot be
        // listed, is left to the action's message (parsing runs outside the host's error handling).
        command.Validators.Add(result =>
        {
            string[]? paths = result.GetValue(inputs);
            string? outPath = result.GetValue(output);
            try
            {
                if (paths is { Length: > 0 } && outPath is not null && TryListInputs(paths, out List<string> files) && files.Count > 0
                    && PlanTargets(files, outPath).Problem is { } problem)
                {
                    result.AddError(problem);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                // Reported by the action, through the host's one-line errors.
            }
        });
        command.SetAction((parse, ct) =>
        {
            string[] paths = parse.GetValue(inputs) ?? [];
            string outPath = parse.GetValue(output)!;
            if (!TryListInputs(paths, out List<string> files))
            {
                string missing = paths.First(p => !Directory.Exists(p) && !File.Exists(p));
                throw new FileNotFoundException($"Input '{Path.GetFullPath(missing)}' does not exist (expected a WAV file or a folder of them); nothing was written.", missing);
            }

            if (files.Count == 0)
            {
                throw new ArgumentException($"No .wav files found in [{string.Join(", ", paths)}].");
            }

            (string[] targets, string? problem) = PlanTargets(files, outPath);
            if (problem is not null)
            {
                throw new ArgumentException(problem);   // the validator reports it first; the files may have changed since
            }

            // Every input's header is read before the first output is written: a broken, empty or unusable file among many
            // stops the run while nothing has been written (the message names it), not after the files before it.
            using DenoiserLease lease = DenoiserLease.Open(host, parse.GetValue(model));
            long maxRate = (long)lease.Denoiser.SampleRate * Resampler.MaxDownsamplingRatio;
            foreach (string file in files)
            {
                using var header = new WavReader(file);
                if (header.FrameCount == 0)
                {
                    throw new InvalidDataException($"'{file}' holds no samples (expected at least 1); nothing was written.");
                }

                if (header.Format.SampleRate > maxRate)
                {
                    throw new NotSupportedException(
                        $"'{file}' is sampled at {header.Format.SampleRate} Hz; expected at most {maxRate} Hz ({Resampler.MaxDownsamplingRatio} × the model's {lease.Denoiser.SampleRate} Hz); nothing was written.");
                }
            }

            ILogger logger = host.LoggerFactory.CreateLogger("denoise");
            using IProgressTask task = host.Progress.Start("denoise", files.Count);
            foreach ((string file, string target) in files.Zip(targets))
            {
                lease.Denoiser.DenoiseFile(file, target, ct);
                host.Out.WriteLine($"{file} -> {target}");
                (long atLimit, long total) = CountAtFullScale(target);
                if (atLimit > 0)
                {
                    // The WAV writer clips what leaves [−1, 1] (documented); a mask above 1 — an imported network with a
                    // ReLU output, say — can push many samples there, which the user should hear about, not discover.
                    logger.LogWarning(
                        "{Target}: {Count} of {Total} samples ({Share:P2}) are at full scale: the denoised signal left [-1, 1] there and the file holds it clipped (the mask amplified the input).",
                        target, atLimit, total, (double)atLimit / total);
                }

                task.Increment();
            }

            return Task.CompletedTask;
        });
        return command;
    }

    /// <summary>
    /// Samples of a written WAV file at the limits of its format (for the 16-bit PCM that <c>DenoiseFile</c> writes: where
    /// the writer clipped, or the signal touched full scale exactly; ±1 and beyond in a float format), and all its samples.
    /// Read block by block.
    /// </summary>
    private static (long AtLimit, long Total) CountAtFullScale(string path)
    {
        using var reader = new WavReader(path);
        // An integer format decodes its largest code to (2^(b−1) − 1) / 2^(b−1) and its smallest to −1 (16-bit: 32767/32768).
        long half = 1L << (reader.Format.BitsPerSample - 1);
        float high = reader.Format.SampleFormat.IsFloatingPoint() ? 1f : (float)((double)(half - 1) / half);
        var buffer = new float[reader.Format.ChannelCount * 4096];
        long atLimit = 0, total = 0;
        int frames;
        while ((frames = reader.ReadFrames(buffer)) > 0)
        {
            ReadOnlySpan<float> samples = buffer.AsSpan(0, frames * reader.Format.ChannelCount);
            foreach (float v in samples)
            {
                if (v >= high || v <= -1f)
                {
                    atLimit++;
                }
            }

            total += samples.Length;
        }

        return (atLimit, total);
    }

    /// <summary>The WAV files named by <paramref name="paths"/> (files as given, folders listed); false if a path names nothing.</summary>
    private static bool TryListInputs(string[] paths, out List<string> files)
    {
        files = [];
        foreach (string p in paths)
        {
            if (Directory.Exists(p))
            {
                files.AddRange(AudioFile.ListWavFiles(p));
            }
            else if (File.Exists(p))
            {
                files.Add(p);
            }
            else
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Each input's output path, or the reason there is none, found before anything is written: an existing file as
    /// <c>--out</c> for several inputs (or a file not named .wav), an output that would replace an input (<c>--out</c>
    /// naming the input folder), and two inputs of one file name (from different folders) that would land on one
    /// output, the second silently replacing the first.
    /// </summary>
    private static (string[] Targets, string? Problem) PlanTargets(IReadOnlyList<string> files, string outPath)
    {
        bool singleFile = files.Count == 1 && outPath.EndsWith(".wav", StringComparison.OrdinalIgnoreCase);
        if (!singleFile && File.Exists(outPath))
        {
            return ([], $"--out: expected a folder for {files.Count} input file(s), found the file '{outPath}'.");
        }

        string[] targets = files.Select(file => singleFile ? outPath : Path.Combine(outPath, Path.GetFileName(file))).ToArray();
        var inputs = new HashSet<string>(files.Select(Path.GetFullPath), StringComparer.Ordinal);
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < files.Count; i++)
        {
            string target = Path.GetFullPath(targets[i]);
            if (inputs.Contains(target))
            {
                return ([], $"The output '{targets[i]}' is an input file; denoising would replace it. Expected --out to name another folder (or file).");
            }

            if (seen.TryGetValue(target, out string? earlier))
            {
                return ([], $"Inputs '{earlier}' and '{files[i]}' would both be written to '{targets[i]}'. Expected inputs of distinct file names; denoise them in separate runs.");
            }

            seen[target] = files[i];
        }

        return (targets, null);
    }

    private static Command EvalCommand(ISampleHost host)
    {
        var data = new Option<string>("--data") { Description = "A paired folder (homework tex/tes/ten or trx/trs/trn, or VoiceBank clean_*/noisy_*).", Required = true };
        var model = new Option<string?>("--model") { Description = "Mask-network checkpoint (default: the shipped model)." };
        var json = new Option<bool>("--json") { Description = "Print the means as one JSON object on the last stdout line." };
        var outDir = new Option<string>("--out") { Description = "Folder for the per-file CSV and spectrogram PNGs.", DefaultValueFactory = _ => Path.Combine("results", "denoise-eval") }.AsOutputFolder();
        var command = new Command("denoise-eval", "Score a denoiser on a paired dataset (SNR, SI-SDR, oracle masks).") { data, model, json, outDir };
        command.SetAction((parse, ct) =>
        {
            string folder = parse.GetValue(data)!;
            string output = parse.GetValue(outDir)!;
            using DenoiserLease lease = DenoiserLease.Open(host, parse.GetValue(model));
            IDenoiser denoiser = lease.Denoiser;
            IReadOnlyList<DenoisingPair> pairs = PairedDataset.List(folder);
            var examples = new List<DenoisingExample>(pairs.Count);
            var outputs = new Dictionary<string, float[]>(StringComparer.Ordinal);
            DenoisingReport report;
            // One step per file read and one per file denoised and scored: the bar covers the whole evaluation.
            using (IProgressTask task = host.Progress.Start("denoise-eval", 2L * pairs.Count))
            {
                foreach (DenoisingPair pair in pairs)
                {
                    examples.Add(DenoisingExample.Load(pair, denoiser.SampleRate));
                    task.Increment();
                }

                report = DenoisingEvaluation.Evaluate(examples, x =>
                {
                    float[] y = denoiser.Denoise(x, denoiser.SampleRate, ct);
                    outputs[examples[outputs.Count].Name] = y;
                    task.Increment();
                    return y;
                }, includeOracles: true, ct);
            }
            // The CSV and the pictures are rendered first and written as one unit: a failure leaves an earlier run's set whole.
            string csv = DenoisingReports.Csv(report);
            var files = new List<(string Path, Action<Stream> Write)> { (Path.Combine(output, "denoise-eval.csv"), s => s.Write(Encoding.UTF8.GetBytes(csv))) };
            foreach (DenoisingExample e in examples.Take(3))
            {
                string stem = Path.GetFileNameWithoutExtension(e.Name);
                foreach ((string part, float[] samples, string title) in new[]
                {
                    ("noisy", e.Noisy, $"{e.Name}: noisy"),
                    ("clean", e.Clean, $"{e.Name}: clean"),
                    ("denoised", outputs[e.Name], $"{e.Name}: denoised ({denoiser.Architecture})"),
                })
                {
                    byte[] png = AudioPlots.RenderSpectrogram(new AudioSignal(samples, denoiser.SampleRate), title);
                    files.Add((Path.Combine(output, $"{stem}-{part}.png"), s => s.Write(png)));
                }
            }

            AtomicFile.WriteAll(files);

            JsonObject result = DenoisingReports.ToJson(report);
            result["model"] = lease.Description;
            result["architecture"] = denoiser.Architecture;
            result["parameters"] = denoiser.ParameterCount;
            result["csv"] = Path.GetFullPath(Path.Combine(output, "denoise-eval.csv"));
            if (parse.GetValue(json))
            {
                host.WriteJsonResult(result);
            }
            else
            {
                foreach ((string key, JsonNode? value) in result)
                {
                    host.Out.WriteLine($"{key,-30} {value}");
                }
            }

            return Task.CompletedTask;
        });
        return command;
    }
}

/// <summary>The denoiser a command uses: the DI singleton, or one loaded from --model (disposed after the command).</summary>
internal sealed class DenoiserLease : IDisposable
{
    private readonly Denoiser? _owned;

    private DenoiserLease(IDenoiser denoiser, Denoiser? owned, string description)
    {
        Denoiser = denoiser;
        _owned = owned;
        Description = description;
    }

    public IDenoiser Denoiser { get; }

    public string Description { get; }

    public static DenoiserLease Open(ISampleHost host, string? modelPath)
    {
        if (modelPath is null)
        {
            return new DenoiserLease(host.Services.GetRequiredService<IDenoiser>(), null, "default (shipped)");
        }

        Models.Denoising.Denoiser owned = Models.Denoising.Denoiser.Load(modelPath);
        return new DenoiserLease(owned, owned, Path.GetFullPath(modelPath));
    }

    public void Dispose() => _owned?.Dispose();
}

/// <summary>JSON, CSV and Markdown forms of evaluation reports.</summary>
internal static class DenoisingReports
{
    public static JsonObject ToJson(DenoisingReport report)
    {
        var json = new JsonObject
        {
            ["files"] = report.Files.Count,
            ["input_snr_db"] = Round(report.InputSnrDb),
            ["output_snr_db"] = Round(report.OutputSnrDb),
            ["snr_improvement_db"] = Round(report.SnrImprovementDb),
            ["si_sdr_improvement_db"] = Round(report.SiSdrImprovementDb),
        };
        if (report.OracleIrmImprovementDb is double irm)
        {
            json["oracle_irm_snr_improvement_db"] = Round(irm);
        }

        if (report.OraclePowerImprovementDb is double power)
        {
            json["oracle_power_snr_improvement_db"] = Round(power);
        }

        return json;
    }

    public static string Csv(DenoisingReport report)
    {
        var csv = new StringBuilder("file,input_snr_db,output_snr_db,snr_improvement_db,input_si_sdr_db,output_si_sdr_db,si_sdr_improvement_db,oracle_irm_snr_db,oracle_power_snr_db\n");
        foreach (DenoisingFileScore f in report.Files)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{f.Name},{f.InputSnrDb:F3},{f.OutputSnrDb:F3},{f.SnrImprovementDb:F3},{f.InputSiSdrDb:F3},{f.OutputSiSdrDb:F3},{f.SiSdrImprovementDb:F3},{f.OracleIrmSnrDb?.ToString("F3", CultureInfo.InvariantCulture)},{f.OraclePowerSnrDb?.ToString("F3", CultureInfo.InvariantCulture)}\n");
        }

        return csv.ToString();
    }

    public static double Round(double x) => Math.Round(x, 3);
}
