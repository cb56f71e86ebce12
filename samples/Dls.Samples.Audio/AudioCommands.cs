using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Dls.Audio;
using Dls.Audio.IO;
using Dls.Audio.Levels;
using Dls.Audio.Metrics;
using Dls.Audio.Plots;
using Dls.Audio.Resampling;
using Dls.Audio.Spectral;
using Dls.Samples.Abstractions;

namespace Dls.Samples.Audio;

/// <summary>The <c>audio</c> command and its sub-commands.</summary>
internal static class AudioCommands
{
    private static readonly string[] FormatNames = ["pcm16", "pcm24", "float32"];

    public static Command Create(ISampleHost host)
    {
        var audio = new Command("audio", "WAV utilities: info, convert, snr, mix, spectrogram.");
        audio.Subcommands.Add(Info(host));
        audio.Subcommands.Add(Convert(host));
        audio.Subcommands.Add(Snr(host));
        audio.Subcommands.Add(Mix(host));
        audio.Subcommands.Add(Spectrogram(host));
        return audio;
    }

    private static Command Info(ISampleHost host)
    {
        var files = PathArguments.OneOrMore("files", "WAV files.");
        var json = new Option<bool>("--json") { Description = "Print the figures as one JSON object on the last stdout line." };
        var command = new Command("info", "Format, encoding, sample rate, channels, duration, peak and RMS level of WAV files.") { files, json };
        command.SetAction(parse =>
        {
            var all = new JsonArray();
            foreach (string path in parse.GetValue(files)!)
            {
                PathArguments.RequireFile(path, "WAV file");
                (WavInfo info, double peak, double rms, long nonFinite, long firstNonFinite) = Measure(path);
                WavFormat format = info.Format;
                var entry = new JsonObject
                {
                    ["file"] = path,
                    ["container"] = info.IsExtensible ? "WAV (WAVE_FORMAT_EXTENSIBLE)" : "WAV",
                    ["encoding"] = format.SampleFormat.Describe(),
                    ["bits_per_sample"] = format.BitsPerSample,
                    ["sample_rate_hz"] = format.SampleRate,
                    ["channels"] = format.ChannelCount,
                    ["frames"] = info.FrameCount,
                    ["duration_s"] = Math.Round(info.DurationSeconds, 6),
                    ["peak_dbfs"] = Number(peak),
                    ["rms_dbfs"] = Number(rms),
                    ["non_finite_samples"] = nonFinite,
                };
                all.Add(entry);
                if (!parse.GetValue(json))
                {
                    host.Out.WriteLine(path);
                    host.Out.WriteLine($"  container    {entry["container"]}");
                    host.Out.WriteLine($"  encoding     {format.SampleFormat.Describe()}");
                    host.Out.WriteLine($"  sample rate  {format.SampleRate} Hz");
                    host.Out.WriteLine($"  channels     {format.ChannelCount}");
                    host.Out.WriteLine($"  duration     {info.DurationSeconds:F3} s ({info.FrameCount} frames)");
                    host.Out.WriteLine($"  peak         {Db(peak)} dBFS");
                    host.Out.WriteLine($"  RMS          {Db(rms)} dBFS");
                    if (nonFinite > 0)
                    {
                        host.Out.WriteLine($"  warning      {nonFinite} NaN/∞ sample(s), the first at frame {firstNonFinite}; peak and RMS leave them out");
                    }
                }
            }

            if (parse.GetValue(json))
            {
                host.WriteJsonResult(new JsonObject { ["files"] = all });
            }
        });
        return command;
    }

    private static Command Convert(ISampleHost host)
    {
        var input = new Argument<string>("in") { Description = "Input WAV file." };
        var output = new Argument<string>("out") { Description = "Output WAV file (written atomically)." };
        var rate = new Option<int?>("--rate") { Description = "Resample to this rate in Hz (band-limited)." }.Within(1, int.MaxValue);
        var mono = new Option<bool>("--mono") { Description = "Downmix to mono by averaging the channels." };
        var format = new Option<string?>("--format") { Description = "Output encoding (default: the input's, if writable here, else pcm16)." };
        format.AcceptOnlyFromAmong(FormatNames);
        var command = new Command("convert", "Change rate, channels or encoding of a WAV file.") { input, output, rate, mono, format };
        command.SetAction(parse =>
        {
            string inPath = parse.GetValue(input)!;
            string outPath = parse.GetValue(output)!;
            PathArguments.RequireFile(inPath, "WAV file");
            int? newRate = parse.GetValue(rate);

            WavData data = WavFile.Read(inPath);
            for (int c = 0; c < data.ChannelCount; c++)
            {
                // Checked before anything is written: resampling would spread a NaN, and an integer encoding has no code for it.
                float[] channel = data.GetChannel(c);
                int bad = SampleChecks.IndexOfNonFinite(channel);
                if (bad >= 0)
                {
                    throw new InvalidDataException($"'{inPath}': expected finite samples, found {channel[bad]} at frame {bad} of channel {c}; nothing was written.");
                }
            }

            float[][] channels = parse.GetValue(mono)
                ? [data.ToMono()]
                : Enumerable.Range(0, data.ChannelCount).Select(data.GetChannel).ToArray();
            int outRate = newRate ?? data.SampleRate;
            if (outRate != data.SampleRate)
            {
                var resampler = new Resampler(data.SampleRate, outRate);
                channels = channels.Select(c => resampler.Process(c)).ToArray();
            }

            string? formatName = parse.GetValue(format);
            WavSampleFormat outFormat = formatName is null
                ? data.SampleFormat is WavSampleFormat.Pcm16 or WavSampleFormat.Pcm24 or WavSampleFormat.Float32 ? data.SampleFormat : WavSampleFormat.Pcm16
                : ParseFormat(formatName);
            var result = new WavData(outRate, channels, outFormat);
            WavFile.Write(outPath, result);
            host.Out.WriteLine(
                $"{inPath} ({data.SampleRate} Hz, {data.ChannelCount} ch, {data.SampleFormat.Describe()}) → " +
                $"{outPath} ({outRate} Hz, {result.ChannelCount} ch, {outFormat.Describe()}, {result.DurationSeconds:F3} s)");
            double peak = AudioLevels.PeakDbfs(result.ToInterleaved());
            if (!outFormat.IsFloatingPoint() && peak > 0)
            {
                host.Out.WriteLine($"warning: peak {Db(peak)} dBFS exceeds full scale; samples were clipped in the integer encoding.");
            }
        });
        return command;
    }

    private static Command Snr(ISampleHost host)
    {
        var clean = new Option<string>("--clean") { Description = "The clean reference WAV.", Required = true };
        var estimate = new Option<string>("--estimate") { Description = "The estimate (enhanced or noisy) WAV.", Required = true };
        var json = new Option<bool>("--json") { Description = "Print snr_db, si_sdr_db, seg_snr_db as one JSON object on the last stdout line." };
        var command = new Command("snr", "SNR, SI-SDR and segmental SNR of an estimate against a clean reference (mono).") { clean, estimate, json };
        command.SetAction(parse =>
        {
            string cleanPath = parse.GetValue(clean)!;
            string estimatePath = parse.GetValue(estimate)!;
            PathArguments.RequireFile(cleanPath, "WAV file");
            PathArguments.RequireFile(estimatePath, "WAV file");
            AudioSignal s = AudioFile.Load(cleanPath);
            AudioSignal e = AudioFile.Load(estimatePath);
            if (s.SampleRate != e.SampleRate)
            {
                throw new ArgumentException($"--estimate: expected the clean file's rate {s.SampleRate} Hz, found {e.SampleRate} Hz (convert it first).");
            }

            if (s.Length != e.Length)
            {
                throw new ArgumentException($"--estimate: expected {s.Length} samples like the clean file, found {e.Length}.");
            }

            double snr = SignalMetrics.SnrDb(s.Samples, e.Samples);
            double siSdr = SignalMetrics.SiSdrDb(s.Samples, e.Samples);
            double seg = SignalMetrics.SegmentalSnrDb(s.Samples, e.Samples);
            host.Out.WriteLine($"SNR            {Db(snr)} dB");
            host.Out.WriteLine($"SI-SDR         {Db(siSdr)} dB");
            host.Out.WriteLine($"segmental SNR  {Db(seg)} dB (frames of {SignalMetrics.DefaultSegmentLength}, clamped to [{SignalMetrics.DefaultSegmentMinDb}, {SignalMetrics.DefaultSegmentMaxDb}] dB)");
            if (parse.GetValue(json))
            {
                host.WriteJsonResult(new JsonObject { ["snr_db"] = Number(snr), ["si_sdr_db"] = Number(siSdr), ["seg_snr_db"] = Number(seg) });
            }
        });
        return command;
    }

    private static Command Mix(ISampleHost host)
    {
        var speech = new Option<string>("--speech") { Description = "The speech WAV (mono mix; its rate is kept).", Required = true };
        var noise = new Option<string>("--noise") { Description = "The noise WAV (resampled to the speech rate, repeated if shorter).", Required = true };
        var snr = new Option<double>("--snr") { Description = "Target SNR in dB, -100 to 100.", Required = true }.Within(-100, 100);
        var output = new Option<string>("--out") { Description = "The mixture WAV (written atomically).", Required = true };
        var format = new Option<string>("--format") { Description = "Output encoding.", DefaultValueFactory = _ => "pcm16" };
        format.AcceptOnlyFromAmong(FormatNames);
        var command = new Command("mix", "Mix speech and noise at a target SNR.") { speech, noise, snr, output, format };
        command.SetAction(parse =>
        {
            string speechPath = parse.GetValue(speech)!;
            string noisePath = parse.GetValue(noise)!;
            PathArguments.RequireFile(speechPath, "WAV file");
            PathArguments.RequireFile(noisePath, "WAV file");
            AudioSignal s = AudioFile.Load(speechPath);
            AudioSignal n = AudioFile.Load(noisePath, s.SampleRate);
            double target = parse.GetValue(snr);
            NoisyMixture mix = NoiseMixer.MixAtSnr(s.Samples, n.Samples, target);
            WavSampleFormat outFormat = ParseFormat(parse.GetValue(format)!);
            string outPath = parse.GetValue(output)!;
            AudioFile.Save(outPath, new AudioSignal(mix.Mixture, s.SampleRate), outFormat);
            double peak = AudioLevels.PeakDbfs(mix.Mixture);
            host.Out.WriteLine($"{outPath}: speech + noise at {target:F2} dB SNR, noise gain {mix.NoiseGain:G6} ({Db(AudioLevels.GainToDb(mix.NoiseGain))} dB), peak {Db(peak)} dBFS");
            if (!outFormat.IsFloatingPoint() && peak > 0)
            {
                host.Out.WriteLine("warning: the mixture exceeds full scale and was clipped; use --format float32 or quieter inputs.");
            }
        });
        return command;
    }

    private static Command Spectrogram(ISampleHost host)
    {
        var input = new Argument<string>("in") { Description = "Input WAV file (mixed to mono)." };
        var output = new Option<string>("--out") { Description = "The PNG to write.", Required = true };
        var waveform = new Option<string?>("--waveform") { Description = "Also draw the waveform into this PNG." };
        var nFft = new Option<int>("--n-fft") { Description = "FFT size.", DefaultValueFactory = _ => 1024 };
        var hop = new Option<int>("--hop") { Description = "Hop length in samples.", DefaultValueFactory = _ => 256 };
        var range = new Option<double>("--range") { Description = "Dynamic range shown, in dB below the maximum (1 to 300).", DefaultValueFactory = _ => 80 }.Within(1, 300);
        var command = new Command("spectrogram", "Draw a log-magnitude spectrogram (time in s, frequency in Hz, colour bar).") { input, output, waveform, nFft, hop, range };
        command.SetAction(parse =>
        {
            string inPath = parse.GetValue(input)!;
            PathArguments.RequireFile(inPath, "WAV file");
            AudioSignal signal = AudioFile.Load(inPath);
            var options = new StftOptions { NFft = parse.GetValue(nFft), HopLength = parse.GetValue(hop) };
            string outPath = parse.GetValue(output)!;
            string title = $"{Path.GetFileName(inPath)} ({signal.SampleRate} Hz, {signal.DurationSeconds:F2} s)";
            // Both pictures are rendered first and written as one unit, so a bad --waveform path leaves no spectrogram behind.
            byte[] spectrogram = AudioPlots.RenderSpectrogram(signal, title, options, parse.GetValue(range));
            var files = new List<(string Path, Action<Stream> Write)> { (outPath, s => s.Write(spectrogram)) };
            string? wavePath = parse.GetValue(waveform);
            if (wavePath is not null)
            {
                byte[] wave = AudioPlots.RenderWaveform(signal, title);
                files.Add((wavePath, s => s.Write(wave)));
            }

            AtomicFile.WriteAll(files);
            host.Out.WriteLine($"{outPath}: spectrogram of {inPath}, n_fft {options.NFft}, hop {options.HopLength}");
            if (wavePath is not null)
            {
                host.Out.WriteLine($"{wavePath}: waveform of {inPath}");
            }
        });
        return command;
    }

    /// <summary>
    /// Streams the file in blocks: peak and RMS over all channels in bounded memory, whatever the length. A float file may
    /// hold NaN or ∞ samples; they are counted (with the frame of the first) and left out of the levels.
    /// </summary>
    private static (WavInfo Info, double PeakDbfs, double RmsDbfs, long NonFinite, long FirstNonFiniteFrame) Measure(string path)
    {
        using var reader = new WavReader(path);
        int channels = reader.Format.ChannelCount;
        // 64 KiB of samples (at least one frame), not a fixed number of frames: a header may declare 65,535 channels.
        var block = new float[Math.Max(channels, 16_384 / channels * channels)];
        double peak = 0, sumSquares = 0;
        long count = 0, nonFinite = 0, firstNonFinite = -1, framesBefore = 0;
        int frames;
        while ((frames = reader.ReadFrames(block)) > 0)
        {
            int n = frames * channels;
            for (int i = 0; i < n; i++)
            {
                float v = block[i];
                if (!float.IsFinite(v))
                {
                    if (nonFinite++ == 0)
                    {
                        firstNonFinite = framesBefore + (i / channels);
                    }

                    continue;
                }

                peak = Math.Max(peak, Math.Abs(v));
                sumSquares += (double)v * v;
                count++;
            }

            framesBefore += frames;
        }

        double rms = count == 0 ? double.NegativeInfinity : 10 * Math.Log10(sumSquares / count);
        return (new WavInfo(reader.Format, reader.FrameCount, reader.IsExtensible), 20 * Math.Log10(peak), rms, nonFinite, firstNonFinite);
    }

    internal static WavSampleFormat ParseFormat(string name) => name switch
    {
        "pcm16" => WavSampleFormat.Pcm16,
        "pcm24" => WavSampleFormat.Pcm24,
        "float32" => WavSampleFormat.Float32,
        _ => throw new ArgumentException($"--format: expected one of {string.Join(", ", FormatNames)}, found '{name}'."),
    };

    /// <summary>JSON has no infinities: ±∞ (a perfect or silent comparison) is written as the string "Infinity"/"-Infinity".</summary>
    internal static JsonNode Number(double value) =>
        double.IsFinite(value) ? JsonValue.Create(Math.Round(value, 6)) : JsonValue.Create(value > 0 ? "Infinity" : "-Infinity");

    internal static string Db(double value) =>
        double.IsFinite(value) ? value.ToString("F2", CultureInfo.InvariantCulture) : value > 0 ? "+inf" : "-inf";

}
