using Dls.Audio.Spectral;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Audio.Tests.Spectral;

public sealed class StftTests
{
    private static float[] Noise(int n, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
    }

    [Theory]
    [InlineData(1024, 512, StftPadMode.Constant)]
    [InlineData(1024, 256, StftPadMode.Reflect)]
    [InlineData(512, 128, StftPadMode.Constant)]
    [InlineData(400, 160, StftPadMode.Constant)]
    public void InverseForward_HannHopAtMostHalf_ReconstructsSignal(int nFft, int hop, StftPadMode padMode)
    {
        float[] x = Noise(8000, nFft + hop);
        using var stft = new Stft(new StftOptions { NFft = nFft, HopLength = hop, PadMode = padMode });

        float[] y = stft.Inverse(stft.Forward(x), x.Length);

        // Perfect reconstruction up to float32 rounding of two FFTs and the overlap-add division (~1e-7 relative).
        double err = StftReferenceTests.Relative(y.Select(v => (double)v).ToArray(), x.Select(v => (double)v).ToArray());
        Assert.InRange(err, 0, 1e-5);
    }

    [Fact]
    public void Forward_Batch_SameAsEachRow()
    {
        using var scope = NewDisposeScope();
        using var stft = new Stft();
        Tensor batch = torch.tensor(Noise(2 * 5000, 7), [2, 5000]);

        Tensor spec = stft.Forward(batch);

        Assert.Equal([2L, 513, 10], spec.shape);
        for (int b = 0; b < 2; b++)
        {
            Tensor single = stft.Forward(batch[b]);
            Assert.True(torch.allclose(spec[b], single, rtol: 0, atol: 1e-6), $"row {b} differs");
        }
    }

    [Fact]
    public void Forward_RequiresGrad_GradientFlowsThroughRoundTrip()
    {
        using var scope = NewDisposeScope();
        using var stft = new Stft(new StftOptions { NFft = 256, HopLength = 64 });
        Tensor x = torch.tensor(Noise(2048, 3)).requires_grad_(true);

        Tensor magnitude = Spectrum.Magnitude(stft.Forward(x));
        Tensor loss = magnitude.pow(2).sum();
        loss.backward();

        Assert.NotNull(x.grad);
        // Parseval-like: d/dx Σ|X|² is non-zero for a non-zero signal.
        Assert.True(x.grad!.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void MagnitudePhase_FromPolar_RebuildsSpectrum()
    {
        using var scope = NewDisposeScope();
        using var stft = new Stft();
        Tensor spec = stft.Forward(torch.tensor(Noise(4000, 11)));

        Tensor rebuilt = Spectrum.FromPolar(Spectrum.Magnitude(spec), Spectrum.Phase(spec));

        Assert.True(torch.allclose(rebuilt, spec, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void FloatArrayHelpers_MagnitudeAndPolar_Consistent()
    {
        using var stft = new Stft(new StftOptions { NFft = 64, HopLength = 16 });
        ComplexSpectrogram spec = stft.Forward(Noise(500, 5));

        ComplexSpectrogram rebuilt = ComplexSpectrogram.FromPolar(spec.Bins, spec.Frames, spec.Magnitude(), spec.Phase());

        Assert.Equal(33, spec.Bins);
        Assert.Equal(32, spec.Frames);
        for (int i = 0; i < spec.Real.Length; i++)
        {
            Assert.Equal(spec.Real[i], rebuilt.Real[i], 1e-4f);
            Assert.Equal(spec.Imaginary[i], rebuilt.Imaginary[i], 1e-4f);
        }
    }

    [Theory]
    [InlineData(0, 5, "bins", "Expected at least 1 frequency bin; found 0")]
    [InlineData(-3, 5, "bins", "Expected at least 1 frequency bin; found -3")]
    [InlineData(4, -1, "frames", "Expected 0 or more frames; found -1")]
    public void FromPolar_BadShape_ArgumentOutOfRangeNamingIt(int bins, int frames, string param, string message)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ComplexSpectrogram.FromPolar(bins, frames, [], []));

        Assert.Equal(param, ex.ParamName);
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public void FromPolar_WrongLengths_ExpectedAndFoundCounts()
    {
        var ex = Assert.Throws<ArgumentException>(() => ComplexSpectrogram.FromPolar(3, 2, new float[6], new float[5]));

        Assert.Contains("Expected 3 × 2 = 6 magnitudes and phases; found 6 magnitudes and 5 phases", ex.Message);
    }

    [Fact]
    public void Options_SeveralBadFields_AllReported()
    {
        var options = new StftOptions { NFft = 1, HopLength = 0, WinLength = 5 };

        var ex = Assert.Throws<ArgumentException>(() => new Stft(options));

        Assert.Contains("NFft", ex.Message);
        Assert.Contains("HopLength", ex.Message);
        Assert.Contains("WinLength", ex.Message);
        Assert.Contains("3 problems", ex.Message);
    }

    [Theory]
    [InlineData(256, 300, StftWindow.Hann, true)]      // hop > n_fft: samples no frame covers
    [InlineData(256, 64, StftWindow.Hann, false)]      // Hann is 0 at sample 0 and nothing else covers it
    [InlineData(256, 256, StftWindow.Hann, true)]      // hop = n_fft with Hann: zeros at every frame boundary
    public void Inverse_OptionsThatCannotReconstruct_RefusedWithNola(int nFft, int hop, StftWindow window, bool center)
    {
        using var scope = NewDisposeScope();
        using var stft = new Stft(new StftOptions { NFft = nFft, HopLength = hop, Window = window, Center = center });
        Tensor spec = stft.Forward(torch.tensor(Noise(4096, 1)));

        var ex = Assert.Throws<ArgumentException>(() => stft.Inverse(spec, 4096));

        Assert.Contains("NOLA", ex.Message);
        Assert.Contains($"HopLength {hop}", ex.Message);
    }

    [Theory]
    [InlineData(StftWindow.Rectangular, 256)]
    [InlineData(StftWindow.Hamming, 256)]
    [InlineData(StftWindow.Hamming, 64)]
    public void Inverse_NonZeroEndedWindows_ReconstructWithoutCentring(StftWindow window, int hop)
    {
        float[] x = Noise(256 + (hop * 20), 9);
        using var stft = new Stft(new StftOptions { NFft = 256, HopLength = hop, Window = window, Center = false });

        float[] y = stft.Inverse(stft.Forward(x), x.Length);

        double err = StftReferenceTests.Relative(y.Select(v => (double)v).ToArray(), x.Select(v => (double)v).ToArray());
        Assert.InRange(err, 0, 1e-5);
    }

    [Fact]
    public void Forward_WrongRank_ArgumentExceptionWithShape()
    {
        using var scope = NewDisposeScope();
        using var stft = new Stft();

        var ex = Assert.Throws<ArgumentException>(() => stft.Forward(torch.zeros(2, 2, 2000)));

        Assert.Contains("[2, 2, 2000]", ex.Message);
    }

    [Fact]
    public void ForwardInverse_ManyCalls_NoTensorLeak()
    {
        using var stft = new Stft(new StftOptions { NFft = 128, HopLength = 32 });
        using var x = torch.tensor(Noise(2000, 2));
        void RoundTrip()
        {
            using var spec = stft.Forward(x);
            using var y = stft.Inverse(spec, 2000);
        }

        RoundTrip();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 50; i++)
        {
            RoundTrip();
        }

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Theory]
    [InlineData(StftWindow.Hamming, StftPadMode.Reflect)]
    [InlineData(StftWindow.Rectangular, StftPadMode.Constant)]
    [InlineData(StftWindow.Hann, StftPadMode.Reflect)]
    public void Forward_Float64_MatchesBareTorchStft(StftWindow window, StftPadMode padMode)
    {
        // torch.stft with torch's own periodic window is the reference for the windows the JSON files do not cover.
        using var scope = NewDisposeScope();
        var options = new StftOptions { NFft = 512, HopLength = 128, WinLength = 400, Window = window, PadMode = padMode };
        using var stft = new Stft(options);
        Tensor x = torch.tensor(Noise(3000, 4)).to_type(ScalarType.Float64);
        Tensor w = window switch
        {
            StftWindow.Hann => torch.hann_window(400, dtype: ScalarType.Float64),
            // TorchSharp's hamming_window takes α, β as float (0.54f ≠ 0.54); build scipy's exact periodic Hamming instead.
            StftWindow.Hamming => 0.54 - (0.46 * torch.cos(torch.arange(400, dtype: ScalarType.Float64) * (2 * Math.PI / 400))),
            _ => torch.ones(400, dtype: ScalarType.Float64),
        };

        Tensor expected = torch.stft(x, 512, 128, 400, w, center: true,
            pad_mode: padMode == StftPadMode.Reflect ? PaddingModes.Reflect : PaddingModes.Constant, return_complex: true);
        Tensor actual = stft.Forward(x);

        // Same float64 FFTs on the same frames: differences are rounding only (relative ≤ 1e-12).
        double relative = (actual - expected).abs().pow(2).sum().sqrt().item<double>() / expected.abs().pow(2).sum().sqrt().item<double>();
        Assert.InRange(relative, 0, 1e-12);
    }

    [Fact]
    public void FloatHelpersAndLogMel_ManyCalls_NoTensorLeak()
    {
        using var stft = new Stft(new StftOptions { NFft = 128, HopLength = 32 });
        using var logMel = new LogMelSpectrogram();
        float[] x = Noise(2000, 6);
        void Work()
        {
            stft.Inverse(stft.Forward(x), x.Length);
            logMel.Compute(x);
        }

        Work();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 30; i++)
        {
            Work();
        }

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void FloatHelpersAndLogMel_RepeatedAndConcurrentCalls_BitIdentical()
    {
        // The assignment's STFT settings, called again serially and from four threads at once, each call on a new
        // managed copy. Same data, same operations, so the tolerance is zero: what a caller gets must not depend on
        // when, from which thread or from which array it calls.
        using var stft = new Stft();
        using var logMel = new LogMelSpectrogram();
        float[] x = Noise(16000, 7);
        ComplexSpectrogram spectrum = stft.Forward(x);
        float[] resynthesized = stft.Inverse(spectrum, x.Length);
        float[] mel = logMel.Compute(x).Features;
        void Check(int call)
        {
            float[] copy = x.ToArray();
            ComplexSpectrogram again = stft.Forward(copy);
            Assert.True(again.Real.AsSpan().SequenceEqual(spectrum.Real) && again.Imaginary.AsSpan().SequenceEqual(spectrum.Imaginary), $"STFT differed on call {call}");
            Assert.True(stft.Inverse(again, copy.Length).AsSpan().SequenceEqual(resynthesized), $"ISTFT differed on call {call}");
            Assert.True(logMel.Compute(copy).Features.AsSpan().SequenceEqual(mel), $"log-mel differed on call {call}");
        }

        for (int i = 0; i < 4; i++) Check(i);
        Parallel.For(4, 20, new ParallelOptions { MaxDegreeOfParallelism = 4 }, Check);
    }

    [Fact]
    public void FrameCount_MatchesForwardShape()
    {
        using var scope = NewDisposeScope();
        foreach (bool center in new[] { true, false })
        {
            var options = new StftOptions { NFft = 512, HopLength = 160, Center = center };
            using var stft = new Stft(options);
            foreach (int n in new[] { 512, 513, 4000, 4001 })
            {
                Tensor spec = stft.Forward(torch.zeros(n));
                Assert.Equal(options.FrameCount(n), spec.shape[^1]);
            }
        }
    }
}
