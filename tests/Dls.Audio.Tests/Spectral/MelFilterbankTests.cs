using Dls.Audio.Spectral;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Audio.Tests.Spectral;

public sealed class MelFilterbankTests
{
    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(60.0, 0.9)]         // linear part: 60 / (200/3)
    [InlineData(1000.0, 15.0)]      // the break point
    [InlineData(6400.0, 42.0)]      // 1000 × 6.4: exactly 27 log steps above 15
    public void HzToMel_Slaney_KnownValues(double hz, double mel)
    {
        Assert.Equal(mel, MelFilterbank.HzToMel(hz, MelScale.Slaney), 10);
        Assert.Equal(hz, MelFilterbank.MelToHz(mel, MelScale.Slaney), 8);
    }

    [Theory]
    [InlineData(700.0, 781.1728)]       // 2595 · log10(2)
    [InlineData(1000.0, 999.9855)]      // HTK's mel is ≈ 1000 at 1 kHz by construction
    public void HzToMel_Htk_KnownValues(double hz, double mel)
    {
        Assert.Equal(mel, MelFilterbank.HzToMel(hz, MelScale.Htk), 3);
        Assert.Equal(hz, MelFilterbank.MelToHz(MelFilterbank.HzToMel(hz, MelScale.Htk), MelScale.Htk), 8);
    }

    [Theory]
    [InlineData(MelScale.Slaney)]
    [InlineData(MelScale.Htk)]
    public void SlaneyNormalization_EachFilterHasUnitArea(MelScale scale)
    {
        // With a fine FFT grid (8192 points, 1.95 Hz bins) the sampled triangles integrate to their area: 1 ± 1 %.
        var bank = new MelFilterbank(new MelOptions { SampleRate = 16000, NFft = 8192, MelCount = 40, Scale = scale });
        float[] w = bank.GetWeights();
        double binHz = 16000.0 / 8192;

        for (int m = 0; m < bank.MelCount; m++)
        {
            double area = 0;
            for (int k = 0; k < bank.Bins; k++)
            {
                area += w[(m * bank.Bins) + k] * binHz;
            }

            Assert.InRange(area, 0.99, 1.01);
        }
    }

    [Fact]
    public void NoNormalization_PeaksAtMostOneAndCentresIncrease()
    {
        var bank = new MelFilterbank(new MelOptions { NFft = 4096, MelCount = 64, Normalization = MelNormalization.None, MinFrequency = 50, MaxFrequency = 7600 });
        float[] w = bank.GetWeights();

        for (int m = 0; m < bank.MelCount; m++)
        {
            float peak = w.AsSpan(m * bank.Bins, bank.Bins).ToArray().Max();
            Assert.InRange(peak, 0.9f, 1f); // the grid may miss the apex by < half a bin
        }

        Assert.Equal(bank.CenterFrequencies.Order(), bank.CenterFrequencies);
        Assert.InRange(bank.CenterFrequencies[0], 50, 7600);
        Assert.InRange(bank.CenterFrequencies[^1], 50, 7600);
    }

    [Fact]
    public void Options_BadValues_AllReported()
    {
        var ex = Assert.Throws<ArgumentException>(() => new MelFilterbank(new MelOptions { MelCount = 0, MinFrequency = 9000, SampleRate = 16000 }));

        Assert.Contains("MelCount", ex.Message);
        Assert.Contains("MaxFrequency", ex.Message);
    }

    [Fact]
    public void LogMel_Tone_LoudestBandContainsTone()
    {
        const int rate = 16000;
        float[] tone = Enumerable.Range(0, rate).Select(i => (float)(0.5 * Math.Sin(2 * Math.PI * 1000 * i / rate))).ToArray();
        using var logMel = new LogMelSpectrogram();

        (float[] features, int frames) = logMel.Compute(tone);

        Assert.Equal(101, frames); // centred, hop 160: 1 + 16000 / 160
        int mels = logMel.Filterbank.MelCount;
        int mid = frames / 2;
        int loudest = Enumerable.Range(0, mels).MaxBy(m => features[(m * frames) + mid]);
        double centre = logMel.Filterbank.CenterFrequencies[loudest];
        Assert.InRange(centre, 850, 1150);
    }

    [Fact]
    public void LogMel_Batch_ShapeAndGradient()
    {
        using var scope = NewDisposeScope();
        using var logMel = new LogMelSpectrogram();
        Tensor x = torch.randn(3, 4000).requires_grad_(true);

        Tensor y = logMel.Forward(x);
        y.sum().backward();

        Assert.Equal([3L, 40, 26], y.shape);
        Assert.NotNull(x.grad);
    }

    [Fact]
    public void PowerToDb_TopDbFloorsRange()
    {
        float[] db = LogMelSpectrogram.PowerToDb([1f, 1e-3f, 1e-12f], topDb: 50);

        Assert.Equal(0, db[0], 5);
        Assert.Equal(-30, db[1], 4);
        Assert.Equal(-50, db[2], 5);
    }

    [Theory]
    [InlineData(-10.0)]
    [InlineData(double.NaN)]
    public void PowerToDb_NegativeOrNaNTopDb_ArgumentOutOfRange(double topDb)
    {
        // librosa raises for top_db < 0; a negative range used to lift every value above the maximum, NaN to blank all.
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => LogMelSpectrogram.PowerToDb([1f, 1e-3f, 1e-12f], topDb: topDb));

        Assert.Equal("topDb", ex.ParamName);
        Assert.Equal(topDb, ex.ActualValue);
        Assert.Contains("non-negative number of dB", ex.Message);
    }

    [Fact]
    public void PowerToDb_NullOrInfiniteTopDb_NoFloor()
    {
        float[] none = LogMelSpectrogram.PowerToDb([1f, 1e-3f, 1e-12f], topDb: null);
        float[] infinite = LogMelSpectrogram.PowerToDb([1f, 1e-3f, 1e-12f], topDb: double.PositiveInfinity);

        // 10·log10 of 1, 1e-3 and the amin floor 1e-10: exact decimal powers, so float32 rounding only (1e-4 dB).
        Assert.Equal([0f, -30f, -100f], none, (a, b) => Math.Abs(a - b) < 1e-4);
        Assert.Equal(none, infinite);
    }

    [Theory]
    [InlineData("SampleRate", "SampleRate must be positive; found 0")]
    [InlineData("NFft", "NFft must be at least 2; found 1")]
    [InlineData("MinFrequency", "MinFrequency must be ≥ 0 Hz; found -1")]
    [InlineData("MinFrequencyNaN", "MinFrequency must be ≥ 0 Hz; found NaN")]
    [InlineData("Scale", "Scale 7 is not a defined MelScale")]
    [InlineData("Normalization", "Normalization 7 is not a defined MelNormalization")]
    public void Options_EachBadField_NamedWithTheValueFound(string field, string message)
    {
        var valid = new MelOptions();
        MelOptions options = field switch
        {
            "SampleRate" => valid with { SampleRate = 0 },
            "NFft" => valid with { NFft = 1 },
            "MinFrequency" => valid with { MinFrequency = -1 },
            "MinFrequencyNaN" => valid with { MinFrequency = double.NaN },
            "Scale" => valid with { Scale = (MelScale)7 },
            _ => valid with { Normalization = (MelNormalization)7 },
        };

        var ex = Assert.Throws<ArgumentException>(() => new MelFilterbank(options));

        Assert.StartsWith("Invalid mel options: ", ex.Message);
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public void Apply_SmallSpectrogram_EqualsTheWeightMatrixTimesTheSpectrogram()
    {
        // 9 bins × 4 frames into 3 bands: result[m, t] = Σ_k W[m, k] · S[k, t], computed here from GetWeights.
        var bank = new MelFilterbank(new MelOptions { SampleRate = 16000, NFft = 16, MelCount = 3 });
        const int frames = 4;
        var random = new Random(21);
        float[] spectrogram = Enumerable.Range(0, bank.Bins * frames).Select(_ => (float)random.NextDouble()).ToArray();
        float[] weights = bank.GetWeights();

        float[] mel = bank.Apply(spectrogram, frames);

        Assert.Equal(9, bank.Bins);
        Assert.Equal(3 * frames, mel.Length);
        for (int m = 0; m < 3; m++)
        {
            for (int t = 0; t < frames; t++)
            {
                double expected = 0;
                for (int k = 0; k < bank.Bins; k++)
                {
                    expected += (double)weights[(m * bank.Bins) + k] * spectrogram[(k * frames) + t];
                }

                // Apply sums the double weights, GetWeights rounds them to float32 (relative 6e-8), and the result is
                // float32: 1e-6 relative covers both roundings.
                Assert.True(expected > 0, $"band {m} frame {t}: a band with no weight would test nothing");
                Assert.Equal(expected, mel[(m * frames) + t], expected * 1e-6);
            }
        }
    }

    [Theory]
    [InlineData(35, 4, "Expected 9 bins × 4 frames = 36 values; found 35")]
    [InlineData(37, 4, "Expected 9 bins × 4 frames = 36 values; found 37")]
    public void Apply_LengthOtherThanBinsTimesFrames_ArgumentExceptionExpectedAndFound(int length, int frames, string message)
    {
        var bank = new MelFilterbank(new MelOptions { SampleRate = 16000, NFft = 16, MelCount = 3 });

        var ex = Assert.Throws<ArgumentException>(() => bank.Apply(new float[length], frames));

        Assert.Equal("spectrogram", ex.ParamName);
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public void Apply_NegativeFrameCount_ArgumentOutOfRangeNamingFrames()
    {
        var bank = new MelFilterbank(new MelOptions { SampleRate = 16000, NFft = 16, MelCount = 3 });

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => bank.Apply([], -1));

        Assert.Equal("frames", ex.ParamName);
        Assert.Contains("Expected a frame count ≥ 0; found -1", ex.Message);
    }

    [Fact]
    public void LogMel_MelNFftOtherThanStft_ArgumentExceptionWithBoth()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            new LogMelSpectrogram(new StftOptions { NFft = 512, HopLength = 160 }, new MelOptions { NFft = 1024 }));

        Assert.Equal("melOptions", ex.ParamName);
        Assert.Contains("Mel NFft (1024) must equal STFT NFft (512)", ex.Message);
    }

    [Theory]
    [InlineData(0.0, 1e-6)]
    [InlineData(-2.0, 1e-6)]
    [InlineData(double.NaN, 1e-6)]
    [InlineData(2.0, 0.0)]
    [InlineData(2.0, -1e-6)]
    [InlineData(2.0, double.NaN)]
    public void LogMel_PowerOrOffsetNotPositive_ArgumentExceptionWithBoth(double power, double offset)
    {
        var ex = Assert.Throws<ArgumentException>(() => new LogMelSpectrogram(power: power, offset: offset));

        Assert.Contains($"Power and offset must be positive; found power {power}, offset {offset}", ex.Message);
    }

    [Fact]
    public void LogMel_StftOptions_TheGivenOnesOrTwentyFiveMsEveryTenMsAtSixteenKilohertz()
    {
        var given = new StftOptions { NFft = 1024, HopLength = 256, Window = StftWindow.Hamming };
        using var custom = new LogMelSpectrogram(given);
        using var standard = new LogMelSpectrogram();

        Assert.Same(given, custom.StftOptions);
        // The documented default: 25 ms windows (0.025 × 16000 = 400 samples) every 10 ms (160 samples) in a
        // 512-point FFT, Hann, centred with zero padding.
        StftOptions options = standard.StftOptions;
        Assert.Equal((512, 400, 160), (options.NFft, options.EffectiveWinLength, options.HopLength));
        Assert.Equal((StftWindow.Hann, true, StftPadMode.Constant), (options.Window, options.Center, options.PadMode));
        Assert.Equal(options.NFft, standard.Filterbank.Options.NFft);
    }

    [Fact]
    public void LogMel_DisposeTwice_ThenForwardRefused()
    {
        using var scope = NewDisposeScope();
        var logMel = new LogMelSpectrogram();

        logMel.Dispose();
        logMel.Dispose();

        Assert.Throws<ObjectDisposedException>(() => logMel.Forward(torch.zeros(4000)));
    }

    [Theory]
    [InlineData(0.0, 1.0)]
    [InlineData(-1e-10, 1.0)]
    [InlineData(double.NaN, 1.0)]
    [InlineData(1e-10, 0.0)]
    [InlineData(1e-10, -1.0)]
    [InlineData(1e-10, double.NaN)]
    public void PowerToDb_AminOrReferenceNotPositive_ArgumentExceptionWithBoth(double amin, double reference)
    {
        var ex = Assert.Throws<ArgumentException>(() => LogMelSpectrogram.PowerToDb([1f, 0.5f], reference, amin));

        Assert.Contains($"amin and reference must be positive; found amin {amin}, reference {reference}", ex.Message);
    }
}
