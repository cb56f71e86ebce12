using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Dls.Audio;
using Dls.Audio.IO;
using Dls.Audio.Levels;
using Dls.Audio.Metrics;
using Dls.Audio.Plots;
using Dls.Audio.Spectral;
using Dls.Samples.Abstractions;
using Microsoft.Extensions.Logging;

namespace Dls.Samples.Audio;

/// <summary>
/// <c>run audio-demo</c>: a self-contained tour of Dls.Audio on a synthetic voiced signal (no data needed): noise
/// mixed at 5 dB, the STFT round trip, metrics and pictures, written to the results folder.
/// </summary>
internal static class AudioDemoTask
{
    private const int Rate = 16000;

    public static Task RunAsync(TaskContext context, CancellationToken cancellationToken)
    {
        context.Results.CheckMergeable("audio");
        if (context.DataDirectory is { } data)
        {
            // The demo synthesizes its speech and noise; say so rather than ignore the folder without a word.
            context.Logger.LogWarning("audio-demo makes its own signals and reads no data: --data {Data} is not used.", data);
        }

        using var progress = context.Progress.Start("audio demo", 4);
        double duration = context.Quick ? 1.0 : 3.0;
        float[] clean = Voiced(duration);
        var random = new Random(context.Seed);
        float[] noise = new float[clean.Length];
        for (int i = 0; i < noise.Length; i++)
        {
            // Approximately Gaussian (sum of four uniforms), zero mean.
            noise[i] = (float)(random.NextDouble() + random.NextDouble() + random.NextDouble() + random.NextDouble() - 2.0);
        }

        NoisyMixture mix = NoiseMixer.MixAtSnr(clean, noise, 5.0);
        progress.Increment();
        cancellationToken.ThrowIfCancellationRequested();

        AudioFile.Save(context.Results.PathFor("audio_clean.wav"), new AudioSignal(clean, Rate));
        AudioFile.Save(context.Results.PathFor("audio_noisy.wav"), new AudioSignal(mix.Mixture, Rate));

        // The denoiser's path without a model: STFT → magnitude/phase → recombine → ISTFT must give back the input.
        float[] roundTrip;
        using (var stft = new Stft(StftOptions.Librosa))
        {
            ComplexSpectrogram spec = stft.Forward(mix.Mixture);
            ComplexSpectrogram rebuilt = ComplexSpectrogram.FromPolar(spec.Bins, spec.Frames, spec.Magnitude(), spec.Phase());
            roundTrip = stft.Inverse(rebuilt, mix.Mixture.Length);
        }

        double roundTripSnr = SignalMetrics.SnrDb(mix.Mixture, roundTrip);
        progress.Increment();

        EnhancementReport report = EnhancementMetrics.Evaluate(clean, mix.Mixture, roundTrip);
        AudioPlots.SaveSpectrogram(context.Results.PathFor("audio_clean_spectrogram.png"), new AudioSignal(clean, Rate), "clean (synthetic voiced signal)");
        AudioPlots.SaveSpectrogram(context.Results.PathFor("audio_noisy_spectrogram.png"), new AudioSignal(mix.Mixture, Rate), "noisy (white noise at 5 dB SNR)");
        AudioPlots.SaveWaveform(context.Results.PathFor("audio_noisy_waveform.png"), new AudioSignal(mix.Mixture, Rate), "noisy waveform");
        progress.Increment();

        var figures = new JsonObject
        {
            ["audio_demo_duration_s"] = duration,
            ["audio_demo_target_snr_db"] = 5.0,
            ["audio_demo_noise_gain"] = Math.Round(mix.NoiseGain, 6),
            ["audio_demo_input_snr_db"] = Math.Round(report.InputSnrDb, 4),
            ["audio_demo_input_si_sdr_db"] = Math.Round(report.InputSiSdrDb, 4),
            ["audio_demo_input_seg_snr_db"] = Math.Round(report.InputSegmentalSnrDb, 4),
            ["audio_demo_stft_round_trip_snr_db"] = Math.Round(roundTripSnr, 2),
            ["audio_demo_clean_rms_dbfs"] = Math.Round(AudioLevels.RmsDbfs(clean), 2),
            ["audio_demo_noisy_peak_dbfs"] = Math.Round(AudioLevels.PeakDbfs(mix.Mixture), 2),
        };
        context.Results.MergeJson("audio", figures);

        var md = new StringBuilder();
        md.AppendLine("## Audio toolkit demo (`run audio-demo`)");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"A {duration:F0} s synthetic voiced signal (120 Hz fundamental with vibrato, 12 harmonics, syllable-rate envelope) at {Rate} Hz, mixed with white noise at a target of 5 dB SNR.");
        md.AppendLine();
        md.AppendLine("| figure | value |");
        md.AppendLine("|---|---|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| noise gain applied | {mix.NoiseGain:G6} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| SNR of the mixture | {report.InputSnrDb:F3} dB |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| SI-SDR of the mixture | {report.InputSiSdrDb:F3} dB |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| segmental SNR of the mixture | {report.InputSegmentalSnrDb:F3} dB |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| STFT → magnitude/phase → ISTFT round trip | {AudioCommands.Db(roundTripSnr)} dB SNR |");
        md.AppendLine();
        md.AppendLine("![clean spectrogram](audio_clean_spectrogram.png)");
        md.AppendLine();
        md.AppendLine("![noisy spectrogram](audio_noisy_spectrogram.png)");
        context.Results.WriteMarkdown("audio-demo", md.ToString());
        context.Logger.LogInformation("audio demo: mixture SNR {Snr:F3} dB, round trip {RoundTrip:F1} dB", report.InputSnrDb, roundTripSnr);
        context.Out.WriteLine($"audio-demo: mixture at {report.InputSnrDb:F2} dB SNR (target 5), STFT round trip {AudioCommands.Db(roundTripSnr)} dB; files in {context.Results.OutputDirectory}");
        progress.Increment();
        return Task.CompletedTask;
    }

    /// <summary>A vowel-like test signal: harmonics of a vibrato fundamental under a 4 Hz syllable envelope.</summary>
    private static float[] Voiced(double seconds)
    {
        int n = (int)(seconds * Rate);
        var x = new float[n];
        double phase = 0;
        for (int i = 0; i < n; i++)
        {
            double t = (double)i / Rate;
            double f0 = 120 * (1 + (0.05 * Math.Sin(2 * Math.PI * 5 * t)));
            phase += 2 * Math.PI * f0 / Rate;
            double v = 0;
            for (int h = 1; h <= 12; h++)
            {
                v += Math.Sin(h * phase) / h;
            }

            double envelope = Math.Pow(Math.Sin(Math.PI * 4 * t), 2);
            x[i] = (float)(0.25 * envelope * v);
        }

        return x;
    }
}
