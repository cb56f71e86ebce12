using System.Diagnostics;
using System.Text.Json.Nodes;
using Dls.Audio.IO;
using Dls.Audio.Resampling;
using Dls.Audio.Spectral;
using Dls.Samples.Abstractions;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Samples.Audio;

/// <summary><c>bench audio</c>: throughput of the Dls.Audio hot paths, each measured in the same run.</summary>
internal static class AudioBenchmark
{
    public static Task<JsonObject> RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        double seconds = context.Quick ? 0.3 : 2.0;
        var result = new JsonObject();
        using var progress = context.Progress.Start("audio benchmarks", 4);

        (double library, double raw) = StftRoundTrip(seconds, cancellationToken);
        result["stft_istft_audio_s_per_s"] = Math.Round(library, 1);
        result["torch_raw_stft_istft_audio_s_per_s"] = Math.Round(raw, 1);
        result["stft_istft_library_to_raw_ratio"] = Math.Round(library / raw, 3);
        progress.Increment();

        (double read, double write) = WavPcm16(seconds, cancellationToken);
        result["wav_read_pcm16_mb_per_s"] = Math.Round(read, 1);
        result["wav_write_pcm16_mb_per_s"] = Math.Round(write, 1);
        progress.Increment(2);

        result["resample_48k_to_16k_audio_s_per_s"] = Math.Round(Resample(seconds, cancellationToken), 1);
        progress.Increment();
        context.Logger.LogInformation("audio bench done: {Figures}", result.ToJsonString());
        return Task.FromResult(result);
    }

    /// <summary>Library Stft.Forward + Inverse vs bare torch.stft + torch.istft on the same 10 s of 16 kHz audio,
    /// n_fft 1024, hop 512, periodic Hann, centred with zero padding on both sides; alternating rounds so drift hits both.</summary>
    private static (double Library, double Raw) StftRoundTrip(double seconds, CancellationToken ct)
    {
        const int rate = 16000;
        const int length = 10 * rate;
        using var noGrad = torch.no_grad();
        using var x = torch.randn(length, generator: new Generator(1));
        using var stft = new Stft(StftOptions.Librosa);
        using var window = torch.hann_window(1024);

        void Library()
        {
            using var scope = NewDisposeScope();
            stft.Inverse(stft.Forward(x), length);
        }

        void Raw()
        {
            using var scope = NewDisposeScope();
            Tensor spec = torch.stft(x, 1024, 512, 1024, window, center: true, pad_mode: PaddingModes.Constant, return_complex: true);
            torch.istft(spec, 1024, 512, 1024, window, center: true, length: length);
        }

        Library();
        Raw();

        // Short alternating rounds, so load changes on a shared machine hit both sides alike; the throughputs are
        // the medians of the per-round figures (robust to a round that lost the CPU).
        var library = new List<double>();
        var raw = new List<double>();
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < 2 * seconds || library.Count < 5)
        {
            ct.ThrowIfCancellationRequested();
            // Swap which side goes first each round so neither always meets a cold thread pool.
            if (library.Count % 2 == 0)
            {
                library.Add(3 * 10.0 / Time(Library, 3));
                raw.Add(3 * 10.0 / Time(Raw, 3));
            }
            else
            {
                raw.Add(3 * 10.0 / Time(Raw, 3));
                library.Add(3 * 10.0 / Time(Library, 3));
            }
        }

        return (Median(library), Median(raw));
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        int n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[(n / 2) - 1] + values[n / 2]) / 2;
    }

    /// <summary>Reads and writes a 10-minute 16 kHz mono PCM16 file (19.2 MB) in a temporary folder (page cache).</summary>
    private static (double ReadMbPerS, double WriteMbPerS) WavPcm16(double seconds, CancellationToken ct)
    {
        using var scratch = ScratchFolder.Create("dls-audio-bench");
        string dir = scratch.Path;
        var random = new Random(3);
        float[] samples = new float[600 * 16000];
        for (int i = 0; i < samples.Length; i++)
        {
            samples[i] = (float)((random.NextDouble() * 1.8) - 0.9);
        }

        var data = new WavData(16000, [samples], WavSampleFormat.Pcm16);
        string path = Path.Combine(dir, "bench.wav");
        WavFile.Write(path, data);
        double megabytes = new FileInfo(path).Length / 1e6;

        WavFile.Read(path);
        double readTime = 0;
        int reads = 0;
        while (readTime < seconds || reads < 3)
        {
            ct.ThrowIfCancellationRequested();
            readTime += Time(() => WavFile.Read(path), 1);
            reads++;
        }

        double writeTime = 0;
        int writes = 0;
        while (writeTime < seconds || writes < 3)
        {
            ct.ThrowIfCancellationRequested();
            writeTime += Time(() => WavFile.Write(path, data), 1);
            writes++;
        }

        return (reads * megabytes / readTime, writes * megabytes / writeTime);
    }

    /// <summary>Resamples 10 s of 48 kHz noise to 16 kHz with a reused <see cref="Resampler"/>.</summary>
    private static double Resample(double seconds, CancellationToken ct)
    {
        var random = new Random(4);
        float[] input = new float[10 * 48000];
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = (float)(random.NextDouble() - 0.5);
        }

        var resampler = new Resampler(48000, 16000);
        resampler.Process(input);
        double time = 0;
        int runs = 0;
        while (time < seconds || runs < 3)
        {
            ct.ThrowIfCancellationRequested();
            time += Time(() => resampler.Process(input), 1);
            runs++;
        }

        return runs * 10.0 / time;
    }

    private static double Time(Action action, int repeats)
    {
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < repeats; i++)
        {
            action();
        }

        return watch.Elapsed.TotalSeconds;
    }
}
