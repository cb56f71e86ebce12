using System.Globalization;
using Dls.Audio.IO;
using Dls.Samples.Abstractions;

namespace Dls.Samples.Tests;

/// <summary>The <c>audio</c> sub-commands run through the command line, their figures checked against hand computations.</summary>
[Collection("TorchGlobalState")]
public sealed class AudioCommandsTests
{
    private const int Rate = 16000;

    [Fact]
    public async Task Info_WithoutJson_PrintsFormatDurationAndLevelsAndWarnsOfNaN()
    {
        using var dir = ScratchFolder.Create("dls-audio-info-");
        // Constant float samples: the levels follow from the values alone. Peak 0.5 → 20·log10(0.5) = −6.02 dBFS; RMS over
        // both channels √((0.5² + 0.25²) / 2) → 10·log10(0.15625) = −8.06 dBFS.
        string levels = Path.Combine(dir.Path, "levels.wav");
        WavFile.Write(levels, new WavData(22050, [Filled(11025, 0.5f), Filled(11025, -0.25f)], WavSampleFormat.Float32));
        // A NaN and an ∞ among the samples: counted, with the frame of the first, and left out of the levels.
        float[] damaged = Filled(8000, 0.25f);
        damaged[300] = float.PositiveInfinity;
        damaged[7000] = float.NaN;
        string nan = Path.Combine(dir.Path, "nan.wav");
        WavFile.Write(nan, new WavData(Rate, [damaged], WavSampleFormat.Float32));

        var (code, stdout, stderr) = await HostRunner.RunAsync("audio", "info", levels, nan);

        Assert.True(code == 0, stderr);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal(
        [
            levels,
            "  container    WAV",
            "  encoding     32-bit floating point PCM",
            "  sample rate  22050 Hz",
            "  channels     2",
            "  duration     0.500 s (11025 frames)",
            "  peak         -6.02 dBFS",
            "  RMS          -8.06 dBFS",
            nan,
            "  container    WAV",
            "  encoding     32-bit floating point PCM",
            "  sample rate  16000 Hz",
            "  channels     1",
            "  duration     0.500 s (8000 frames)",
            "  peak         -12.04 dBFS",                         // 20·log10(0.25) of the finite samples
            "  RMS          -12.04 dBFS",
            "  warning      2 NaN/∞ sample(s), the first at frame 300; peak and RMS leave them out",
        ], lines);
    }

    [Fact]
    public async Task Info_ExtensibleHeaderWithJson_NamesTheContainerAndGivesTheFigures()
    {
        using var dir = ScratchFolder.Create("dls-audio-info-ext-");
        // Four 16-bit samples, 16384 and −8192 (0.5 and −0.25 of full scale) then two zeros: peak 20·log10(0.5) dBFS,
        // RMS 10·log10((0.5² + 0.25²) / 4) dBFS.
        string path = Path.Combine(dir.Path, "ext.wav");
        File.WriteAllBytes(path, ExtensiblePcm16Mono(Rate, [16384, -8192, 0, 0]));

        var (code, stdout, stderr) = await HostRunner.RunAsync("audio", "info", path, "--json");

        Assert.True(code == 0, stderr);
        Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));   // --json: the JSON line only
        var entry = Assert.Single(HostRunner.LastJsonLine(stdout)["files"]!.AsArray())!.AsObject();
        Assert.Equal(path, (string)entry["file"]!);
        Assert.Equal("WAV (WAVE_FORMAT_EXTENSIBLE)", (string)entry["container"]!);
        Assert.Equal("16-bit signed integer PCM", (string)entry["encoding"]!);
        Assert.Equal((16, Rate, 1, 4L), ((int)entry["bits_per_sample"]!, (int)entry["sample_rate_hz"]!, (int)entry["channels"]!, (long)entry["frames"]!));
        Assert.Equal(4.0 / Rate, (double)entry["duration_s"]!, 1e-9);
        // The JSON rounds to 6 decimals.
        Assert.Equal(20 * Math.Log10(0.5), (double)entry["peak_dbfs"]!, 1e-6);
        Assert.Equal(10 * Math.Log10((0.25 + 0.0625) / 4), (double)entry["rms_dbfs"]!, 1e-6);
        Assert.Equal(0, (long)entry["non_finite_samples"]!);
    }

    [Fact]
    public async Task Info_FileWithoutSamples_LevelsAreMinusInfinityInTextAndJson()
    {
        // No sample at all: the peak and the RMS are −∞ dBFS, printed "-inf" and written as the JSON string "-Infinity"
        // (JSON has no infinities).
        using var dir = ScratchFolder.Create("dls-audio-info-empty-");
        string path = Path.Combine(dir.Path, "empty.wav");
        WavFile.Write(path, new WavData(Rate, [[]], WavSampleFormat.Pcm16));

        var (code, stdout, stderr) = await HostRunner.RunAsync("audio", "info", path);
        var (jsonCode, jsonOut, jsonErr) = await HostRunner.RunAsync("audio", "info", path, "--json");

        Assert.True(code == 0, stderr);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal(
        [
            path,
            "  container    WAV",
            "  encoding     16-bit signed integer PCM",
            "  sample rate  16000 Hz",
            "  channels     1",
            "  duration     0.000 s (0 frames)",
            "  peak         -inf dBFS",
            "  RMS          -inf dBFS",
        ], lines);
        Assert.True(jsonCode == 0, jsonErr);
        var entry = HostRunner.LastJsonLine(jsonOut)["files"]![0]!;
        Assert.Equal("-Infinity", (string)entry["peak_dbfs"]!);
        Assert.Equal("-Infinity", (string)entry["rms_dbfs"]!);
        Assert.Equal(0, (long)entry["frames"]!);
    }

    [Fact]
    public async Task Convert_MonoRateAndFormat_WritesTheAveragedResampledSignal()
    {
        using var dir = ScratchFolder.Create("dls-audio-convert-");
        // Two in-phase 440 Hz sines of amplitude 0.5 and 0.3: the mono average is a 0.4 sine, kept by resampling to 8 kHz
        // (440 Hz is far below the new Nyquist frequency of 4 kHz).
        string input = Path.Combine(dir.Path, "in.wav"), output = Path.Combine(dir.Path, "out.wav");
        WavFile.Write(input, new WavData(Rate, [Sine(Rate, 0.5, 440, Rate), Sine(Rate, 0.3, 440, Rate)], WavSampleFormat.Float32));

        var (code, stdout, stderr) = await HostRunner.RunAsync("audio", "convert", input, output, "--mono", "--rate", "8000", "--format", "pcm24");

        Assert.True(code == 0, stderr);
        Assert.Equal($"{input} (16000 Hz, 2 ch, 32-bit floating point PCM) → {output} (8000 Hz, 1 ch, 24-bit signed integer PCM, 1.000 s)", stdout.Trim());
        WavData written = WavFile.Read(output);
        Assert.Equal((8000, 1, WavSampleFormat.Pcm24, 8000), (written.SampleRate, written.ChannelCount, written.SampleFormat, written.FrameCount));
        // RMS of a 0.4 sine is 0.4/√2. Measured away from the ends (the resampler's filter settles there); the band-limited
        // filter's pass-band ripple and 24-bit rounding stay far below 0.1 %.
        float[] middle = written.GetChannel(0)[1000..7000];
        double rms = Math.Sqrt(middle.Sum(v => (double)v * v) / middle.Length);
        Assert.Equal(0.4 / Math.Sqrt(2), rms, 0.4 / Math.Sqrt(2) * 1e-3);
    }

    [Fact]
    public async Task Convert_LoudFloatToDefaultPcm16_KeepsRateAndWarnsOfClipping()
    {
        using var dir = ScratchFolder.Create("dls-audio-clip-");
        // A float64 input (not writable here) converts to pcm16 unless --format says otherwise; its peak of 1.5 is
        // 20·log10(1.5) = 3.52 dBFS, which a 16-bit file cannot hold.
        string input = Path.Combine(dir.Path, "loud.wav"), output = Path.Combine(dir.Path, "out.wav");
        WavFile.Write(input, new WavData(Rate, [Sine(1600, 1.5, 500, Rate)], WavSampleFormat.Float64));

        var (code, stdout, stderr) = await HostRunner.RunAsync("audio", "convert", input, output);

        Assert.True(code == 0, stderr);
        Assert.Contains($"→ {output} (16000 Hz, 1 ch, 16-bit signed integer PCM, 0.100 s)", stdout);
        Assert.Contains("warning: peak 3.52 dBFS exceeds full scale; samples were clipped in the integer encoding.", stdout);
        WavData written = WavFile.Read(output);
        Assert.Equal(WavSampleFormat.Pcm16, written.SampleFormat);
        // Clipped, not wrapped or rescaled: every input sample beyond ±1 became the 16-bit extreme of its sign
        // (32767 / 32768 and −32768 / 32768 as read back).
        float[] loud = Sine(1600, 1.5, 500, Rate), got = written.GetChannel(0);
        Assert.Contains(loud, x => x > 1f);
        Assert.Contains(loud, x => x < -1f);
        for (int i = 0; i < loud.Length; i++)
        {
            if (Math.Abs(loud[i]) > 1f)
            {
                Assert.Equal(loud[i] > 0 ? 32767f / 32768f : -1f, got[i]);
            }
        }
    }

    [Theory]
    [InlineData(WavSampleFormat.Pcm16, 0.5, "16-bit signed integer PCM")]
    [InlineData(WavSampleFormat.Pcm24, 0.5, "24-bit signed integer PCM")]
    [InlineData(WavSampleFormat.Float32, 1.5, "32-bit floating point PCM")]
    public async Task Convert_WritableEncodingWithoutFormat_KeepsItAndFloatHoldsPeaksAboveFullScale(WavSampleFormat format, double amplitude, string described)
    {
        using var dir = ScratchFolder.Create("dls-audio-keep-");
        // Downmixed only: the input's encoding is written again. A float file holds the 1.5 peak (+3.52 dBFS) as it is, so
        // nothing is clipped and no warning is printed.
        string input = Path.Combine(dir.Path, "in.wav"), output = Path.Combine(dir.Path, "out.wav");
        float[] tone = Sine(1600, amplitude, 500, Rate);
        WavFile.Write(input, new WavData(Rate, [tone, tone], format));
        float[] stored = WavFile.Read(input).GetChannel(0);

        var (code, stdout, stderr) = await HostRunner.RunAsync("audio", "convert", input, output, "--mono");

        Assert.True(code == 0, stderr);
        Assert.Equal($"{input} (16000 Hz, 2 ch, {described}) → {output} (16000 Hz, 1 ch, {described}, 0.100 s)", stdout.Trim());
        WavData written = WavFile.Read(output);
        Assert.Equal((format, 1), (written.SampleFormat, written.ChannelCount));
        // The mean of two equal channels is that channel, and it is written in the encoding it was read from: the same codes.
        Assert.Equal(stored, written.GetChannel(0));
    }

    [Fact]
    public async Task Snr_EstimateEqualToClean_InfiniteFiguresPrintedAsInfAndWrittenAsInfinity()
    {
        using var dir = ScratchFolder.Create("dls-audio-snr-perfect-");
        // A perfect estimate has no error energy: SNR and SI-SDR are +∞; every segment's SNR is clamped to the maximum.
        string cleanPath = Path.Combine(dir.Path, "clean.wav"), estimatePath = Path.Combine(dir.Path, "estimate.wav");
        WavFile.Write(cleanPath, new WavData(Rate, [Sine(Rate, 0.5, 300, Rate)], WavSampleFormat.Float32));
        File.Copy(cleanPath, estimatePath);

        var (code, stdout, stderr) = await HostRunner.RunAsync("audio", "snr", "--clean", cleanPath, "--estimate", estimatePath);
        var (jsonCode, jsonOut, jsonErr) = await HostRunner.RunAsync("audio", "snr", "--clean", cleanPath, "--estimate", estimatePath, "--json");

        Assert.True(code == 0, stderr);
        string max = Dls.Audio.Metrics.SignalMetrics.DefaultSegmentMaxDb.ToString("F2", CultureInfo.InvariantCulture);
        Assert.Equal(
        [
            "SNR            +inf dB",
            "SI-SDR         +inf dB",
            $"segmental SNR  {max} dB (frames of 512, clamped to [-10, 35] dB)",
        ], stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray());
        Assert.True(jsonCode == 0, jsonErr);
        var json = HostRunner.LastJsonLine(jsonOut);
        Assert.Equal("Infinity", (string)json["snr_db"]!);
        Assert.Equal("Infinity", (string)json["si_sdr_db"]!);
        Assert.Equal(Dls.Audio.Metrics.SignalMetrics.DefaultSegmentMaxDb, (double)json["seg_snr_db"]!);
    }

    [Fact]
    public async Task Snr_EstimateWithKnownError_PrintsAndReportsTheHandComputedFigures()
    {
        using var dir = ScratchFolder.Create("dls-audio-snr-");
        float[] clean = Sine(Rate, 0.5, 300, Rate);
        float[] error = Sine(Rate, 0.05, 2300, Rate);
        float[] estimate = clean.Zip(error, (s, e) => s + e).ToArray();
        string cleanPath = Path.Combine(dir.Path, "clean.wav"), estimatePath = Path.Combine(dir.Path, "estimate.wav");
        WavFile.Write(cleanPath, new WavData(Rate, [clean], WavSampleFormat.Float32));
        WavFile.Write(estimatePath, new WavData(Rate, [estimate], WavSampleFormat.Float32));

        var (code, stdout, stderr) = await HostRunner.RunAsync("audio", "snr", "--clean", cleanPath, "--estimate", estimatePath, "--json");

        Assert.True(code == 0, stderr);
        // SNR = 10·log10(Σs² / Σ(s − ŝ)²) from the float32 samples as written (exact in a float WAV), in double.
        double signal = clean.Sum(v => (double)v * v);
        double snr = 10 * Math.Log10(signal / clean.Zip(estimate, (s, e) => (double)s - e).Sum(d => d * d));
        // SI-SDR: α = ⟨ŝ, s⟩ / ‖s‖², then 10·log10(‖αs‖² / ‖ŝ − αs‖²).
        double alpha = clean.Zip(estimate, (s, e) => (double)s * e).Sum() / signal;
        double siSdr = 10 * Math.Log10(alpha * alpha * signal / clean.Zip(estimate, (s, e) => e - alpha * s).Sum(d => d * d));
        var json = HostRunner.LastJsonLine(stdout);
        // The JSON rounds to 6 decimals.
        Assert.Equal(snr, (double)json["snr_db"]!, 1e-5);
        Assert.Equal(siSdr, (double)json["si_sdr_db"]!, 1e-5);
        Assert.Contains($"SNR            {snr.ToString("F2", CultureInfo.InvariantCulture)} dB", stdout);
        Assert.Contains($"SI-SDR         {siSdr.ToString("F2", CultureInfo.InvariantCulture)} dB", stdout);
        Assert.Contains("segmental SNR  ", stdout);
        Assert.NotNull(json["seg_snr_db"]);
    }

    [Theory]
    [InlineData(8000, 8000, "error: --estimate: expected the clean file's rate 16000 Hz, found 8000 Hz (convert it first).")]
    [InlineData(Rate, 15999, "error: --estimate: expected 16000 samples like the clean file, found 15999.")]
    public async Task Snr_EstimateOfAnotherRateOrLength_FailsNamingBoth(int estimateRate, int estimateSamples, string expected)
    {
        using var dir = ScratchFolder.Create("dls-audio-snr-bad-");
        string cleanPath = Path.Combine(dir.Path, "clean.wav"), estimatePath = Path.Combine(dir.Path, "estimate.wav");
        WavFile.Write(cleanPath, new WavData(Rate, [Sine(Rate, 0.5, 300, Rate)], WavSampleFormat.Float32));
        WavFile.Write(estimatePath, new WavData(estimateRate, [Sine(estimateSamples, 0.5, 300, estimateRate)], WavSampleFormat.Float32));

        var (code, stdout, stderr) = await HostRunner.RunAsync("audio", "snr", "--clean", cleanPath, "--estimate", estimatePath, "--json");

        Assert.Equal(1, code);
        Assert.Equal(expected, stderr.Split('\n')[0].TrimEnd('\r'));
        Assert.Equal("", stdout);
    }

    [Fact]
    public async Task Mix_ShortNoise_RepeatedAndScaledToTheTargetSnr()
    {
        using var dir = ScratchFolder.Create("dls-audio-mix-");
        float[] speech = Sine(Rate, 0.3, 220, Rate);
        // A tenth of a second of deterministic noise: repeated to the speech's length.
        var rng = new Random(5);
        float[] noise = Enumerable.Range(0, 1600).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        string speechPath = Path.Combine(dir.Path, "speech.wav"), noisePath = Path.Combine(dir.Path, "noise.wav"), output = Path.Combine(dir.Path, "mix.wav");
        WavFile.Write(speechPath, new WavData(Rate, [speech], WavSampleFormat.Float32));
        WavFile.Write(noisePath, new WavData(Rate, [noise], WavSampleFormat.Float32));

        var (code, stdout, stderr) = await HostRunner.RunAsync("audio", "mix", "--speech", speechPath, "--noise", noisePath, "--snr", "7.5", "--out", output, "--format", "float32");

        Assert.True(code == 0, stderr);
        Assert.StartsWith($"{output}: speech + noise at 7.50 dB SNR, noise gain ", stdout);
        Assert.DoesNotContain("warning", stdout);
        WavData mix = WavFile.Read(output);
        Assert.Equal((Rate, WavSampleFormat.Float32), (mix.SampleRate, mix.SampleFormat));
        float[] mixture = mix.GetChannel(0);
        Assert.Equal(speech.Length, mixture.Length);
        // What was added is the noise, repeated every 1,600 samples, times one gain: the SNR of speech to it is the target
        // (float32 storage of the mixture: 1e-3 dB).
        double[] added = mixture.Zip(speech, (m, s) => (double)m - s).ToArray();
        double gain = added[123] / noise[123];
        Assert.All(Enumerable.Range(0, added.Length).Where(i => i % 997 == 0), i => Assert.Equal(gain * noise[i % 1600], added[i], 1e-6));
        Assert.Equal(7.5, 10 * Math.Log10(speech.Sum(v => (double)v * v) / added.Sum(d => d * d)), 1e-3);
    }

    [Fact]
    public async Task Mix_LoudMixtureInPcm16_WarnsOfClipping()
    {
        using var dir = ScratchFolder.Create("dls-audio-mix-clip-");
        string speechPath = Path.Combine(dir.Path, "speech.wav"), noisePath = Path.Combine(dir.Path, "noise.wav"), output = Path.Combine(dir.Path, "mix.wav");
        WavFile.Write(speechPath, new WavData(Rate, [Sine(Rate, 0.9, 220, Rate)], WavSampleFormat.Float32));
        WavFile.Write(noisePath, new WavData(Rate, [Sine(Rate, 0.5, 1000, Rate)], WavSampleFormat.Float32));

        // At −10 dB SNR the noise is √10 times the speech's RMS: the sum far exceeds full scale.
        var (code, stdout, stderr) = await HostRunner.RunAsync("audio", "mix", "--speech", speechPath, "--noise", noisePath, "--snr", "-10", "--out", output);

        Assert.True(code == 0, stderr);
        Assert.Contains("warning: the mixture exceeds full scale and was clipped; use --format float32 or quieter inputs.", stdout);
        Assert.Equal(WavSampleFormat.Pcm16, WavFile.Read(output).SampleFormat);
    }

    [Fact]
    public async Task Mix_QuietMixtureInDefaultPcm16_WrittenWithoutWarning()
    {
        using var dir = ScratchFolder.Create("dls-audio-mix-quiet-");
        string speechPath = Path.Combine(dir.Path, "speech.wav"), noisePath = Path.Combine(dir.Path, "noise.wav"), output = Path.Combine(dir.Path, "mix.wav");
        WavFile.Write(speechPath, new WavData(Rate, [Sine(Rate, 0.3, 220, Rate)], WavSampleFormat.Float32));
        WavFile.Write(noisePath, new WavData(Rate, [Sine(Rate, 0.5, 1000, Rate)], WavSampleFormat.Float32));

        // At 20 dB SNR the noise adds a tenth of the speech's RMS: the sum stays below full scale.
        var (code, stdout, stderr) = await HostRunner.RunAsync("audio", "mix", "--speech", speechPath, "--noise", noisePath, "--snr", "20", "--out", output);

        Assert.True(code == 0, stderr);
        Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));   // the summary line, no warning
        Assert.StartsWith($"{output}: speech + noise at 20.00 dB SNR, noise gain ", stdout);
        WavData mix = WavFile.Read(output);
        Assert.Equal(WavSampleFormat.Pcm16, mix.SampleFormat);
        Assert.True(mix.GetChannel(0).Max(v => Math.Abs(v)) < 1f);
    }

    [Fact]
    public async Task Mix_LoudMixtureInFloat32_KeptAboveFullScaleWithoutWarning()
    {
        using var dir = ScratchFolder.Create("dls-audio-mix-float-");
        string speechPath = Path.Combine(dir.Path, "speech.wav"), noisePath = Path.Combine(dir.Path, "noise.wav"), output = Path.Combine(dir.Path, "mix.wav");
        WavFile.Write(speechPath, new WavData(Rate, [Sine(Rate, 0.9, 220, Rate)], WavSampleFormat.Float32));
        WavFile.Write(noisePath, new WavData(Rate, [Sine(Rate, 0.5, 1000, Rate)], WavSampleFormat.Float32));

        // The mixture of the clipping test above, written as float: its peak beyond full scale is stored, not clipped.
        var (code, stdout, stderr) = await HostRunner.RunAsync("audio", "mix", "--speech", speechPath, "--noise", noisePath, "--snr", "-10", "--out", output, "--format", "float32");

        Assert.True(code == 0, stderr);
        Assert.DoesNotContain("warning", stdout);
        float[] mixture = WavFile.Read(output).GetChannel(0);
        double peak = mixture.Max(v => Math.Abs((double)v));
        Assert.True(peak > 1, $"peak {peak}");
        Assert.EndsWith($", peak {(20 * Math.Log10(peak)).ToString("F2", CultureInfo.InvariantCulture)} dBFS", stdout.Trim());
    }

    [Fact]
    public async Task Spectrogram_WithoutWaveform_WritesOnlyTheSpectrogram()
    {
        using var dir = ScratchFolder.Create("dls-audio-spec-only-");
        string input = Path.Combine(dir.Path, "tone.wav"), spectrogram = Path.Combine(dir.Path, "spec.png");
        WavFile.Write(input, new WavData(Rate, [Sine(8000, 0.5, 1000, Rate)], WavSampleFormat.Float32));

        var (code, stdout, stderr) = await HostRunner.RunAsync("audio", "spectrogram", input, "--out", spectrogram);

        Assert.True(code == 0, stderr);
        // The defaults: n_fft 1024, hop 256.
        Assert.Equal($"{spectrogram}: spectrogram of {input}, n_fft 1024, hop 256", stdout.Trim());
        Assert.Equal(PngSignature, File.ReadAllBytes(spectrogram)[..8]);
        Assert.Equal([spectrogram, input], Directory.GetFiles(dir.Path).Order(StringComparer.Ordinal));   // no waveform picture
    }

    [Fact]
    public async Task Spectrogram_WithWaveform_WritesBothPngs()
    {
        using var dir = ScratchFolder.Create("dls-audio-spec-");
        string input = Path.Combine(dir.Path, "tone.wav"), spectrogram = Path.Combine(dir.Path, "spec.png"), waveform = Path.Combine(dir.Path, "wave.png");
        WavFile.Write(input, new WavData(Rate, [Sine(8000, 0.5, 1000, Rate)], WavSampleFormat.Float32));

        var (code, stdout, stderr) = await HostRunner.RunAsync("audio", "spectrogram", input, "--out", spectrogram, "--waveform", waveform, "--n-fft", "512", "--hop", "128");

        Assert.True(code == 0, stderr);
        Assert.Contains($"{spectrogram}: spectrogram of {input}, n_fft 512, hop 128", stdout);
        Assert.Contains($"{waveform}: waveform of {input}", stdout);
        foreach (string png in new[] { spectrogram, waveform })
            Assert.Equal(PngSignature, File.ReadAllBytes(png)[..8]);
    }

    [Fact]
    public async Task Spectrogram_WaveformPathUnwritable_WritesNeitherPicture()
    {
        using var dir = ScratchFolder.Create("dls-audio-spec-bad-");
        string input = Path.Combine(dir.Path, "tone.wav"), spectrogram = Path.Combine(dir.Path, "spec.png");
        // An existing folder where the waveform picture should go: the write of the pair fails as one unit.
        string waveform = Directory.CreateDirectory(Path.Combine(dir.Path, "wave.png")).FullName;
        WavFile.Write(input, new WavData(Rate, [Sine(8000, 0.5, 1000, Rate)], WavSampleFormat.Float32));

        var (code, _, stderr) = await HostRunner.RunAsync("audio", "spectrogram", input, "--out", spectrogram, "--waveform", waveform);

        Assert.Equal(1, code);
        Assert.StartsWith($"error: Cannot write '{waveform}': expected a file path, found a folder.", stderr);
        Assert.False(File.Exists(spectrogram), "a failed --waveform must not leave the spectrogram behind");
    }

    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>A mono 16-bit PCM WAV whose header is WAVE_FORMAT_EXTENSIBLE (no writer here produces one), byte by byte.</summary>
    private static byte[] ExtensiblePcm16Mono(int rate, short[] samples)
    {
        using var stream = new MemoryStream();
        using var w = new BinaryWriter(stream);
        int dataBytes = samples.Length * 2;
        w.Write("RIFF"u8);
        w.Write(4 + (8 + 40) + (8 + dataBytes));   // RIFF size: "WAVE", the fmt chunk and the data chunk
        w.Write("WAVE"u8);
        w.Write("fmt "u8);
        w.Write(40);                                // fmt chunk size: 16 + cbSize field (2) + 22 extension bytes
        w.Write((ushort)0xFFFE);                    // wFormatTag: WAVE_FORMAT_EXTENSIBLE
        w.Write((ushort)1);                         // nChannels
        w.Write(rate);                              // nSamplesPerSec
        w.Write(rate * 2);                          // nAvgBytesPerSec
        w.Write((ushort)2);                         // nBlockAlign
        w.Write((ushort)16);                        // wBitsPerSample
        w.Write((ushort)22);                        // cbSize
        w.Write((ushort)16);                        // wValidBitsPerSample
        w.Write(4);                                 // dwChannelMask: SPEAKER_FRONT_CENTER
        // SubFormat KSDATAFORMAT_SUBTYPE_PCM, 00000001-0000-0010-8000-00AA00389B71, in its little-endian GUID layout.
        w.Write(new byte[] { 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71 });
        w.Write("data"u8);
        w.Write(dataBytes);
        foreach (short sample in samples)
        {
            w.Write(sample);
        }

        w.Flush();
        return stream.ToArray();
    }

    private static float[] Filled(int length, float value) => Enumerable.Repeat(value, length).ToArray();

    private static float[] Sine(int length, double amplitude, double frequency, int rate) =>
        Enumerable.Range(0, length).Select(i => (float)(amplitude * Math.Sin(2 * Math.PI * frequency * i / rate))).ToArray();
}
