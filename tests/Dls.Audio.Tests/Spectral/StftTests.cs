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

    [Fact]
    public void Options_UndefinedWindowAndPadMode_EachNamedWithItsValue()
    {
        var both = new StftOptions { Window = (StftWindow)9, PadMode = (StftPadMode)(-1) };
        var one = new StftOptions { Window = (StftWindow)9 };

        var ex = Assert.Throws<ArgumentException>(() => new Stft(both));
        var single = Assert.Throws<ArgumentException>(() => new Stft(one));

        Assert.Contains("(2 problems)", ex.Message);
        Assert.Contains("Window 9 is not a defined StftWindow", ex.Message);
        Assert.Contains("PadMode -1 is not a defined StftPadMode", ex.Message);
        Assert.Contains("Invalid STFT options (1 problem): Window 9 is not a defined StftWindow.", single.Message);
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

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(960)]
    [InlineData(961)]
    public void FrameCount_CentredOddNFft_MatchesForwardShape(int n)
    {
        // An odd NFft is padded by (NFft − 1) / 2 per side, so the frames are 1 + (n − 1) / hop, not 1 + n / hop.
        using var scope = NewDisposeScope();
        var options = new StftOptions { NFft = 255, HopLength = 64 };
        using var stft = new Stft(options);

        Tensor spec = stft.Forward(torch.zeros(n));

        Assert.Equal(1 + ((n - 1) / 64), spec.shape[^1]);
        Assert.Equal(spec.shape[^1], options.FrameCount(n));
    }

    [Fact]
    public void Forward_CentredOddNFftEmptySignal_ArgumentExceptionAndNoFrames()
    {
        // Padded by 127 per side, an empty signal is 254 samples: one short of a 255-sample frame.
        using var scope = NewDisposeScope();
        var options = new StftOptions { NFft = 255, HopLength = 64 };
        using var stft = new Stft(options);

        var ex = Assert.Throws<ArgumentException>(() => stft.Forward(torch.zeros(0)));

        Assert.Contains("odd NFft = 255 needs at least 1 sample", ex.Message);
        Assert.Equal(0, options.FrameCount(0));
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

    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    [InlineData(300)]
    [InlineData(511)]
    public void Inverse_SignalShorterThanHopWithoutLength_EmptyLikeLibrosa(int n)
    {
        // One centred frame of an even NFft: the default length HopLength × (frames − 1) is 0, and librosa.istft
        // trims such a signal to nothing too. With the length given, the samples come back.
        using var scope = NewDisposeScope();
        using var stft = new Stft();
        float[] x = Noise(n, n);
        Tensor spec = stft.Forward(torch.tensor(x));
        Tensor batch = stft.Forward(torch.tensor(x).expand(2, n));

        Tensor y = stft.Inverse(spec);
        Tensor yBatch = stft.Inverse(batch);
        float[] yArray = stft.Inverse(stft.Forward(x));
        float[] rebuilt = stft.Inverse(stft.Forward(x), n);

        Assert.Equal([0L], y.shape);
        Assert.Equal(ScalarType.Float32, y.dtype);
        Assert.Equal([2L, 0], yBatch.shape);
        Assert.Empty(yArray);
        Assert.Equal(n, rebuilt.Length);
        // Samples 0..255 sit under the upper half of the single frame's Hann window (≥ 0.5), where the float32 round trip
        // is exact to ~1e-7; later samples are divided by a window falling to 4e-5 and may lose three digits.
        int m = Math.Min(n, 256);
        double err = StftReferenceTests.Relative(rebuilt[..m].Select(v => (double)v).ToArray(), x[..m].Select(v => (double)v).ToArray());
        Assert.InRange(err, 0, 1e-5);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Inverse_LengthZero_EmptyResult(bool center)
    {
        using var scope = NewDisposeScope();
        using var stft = new Stft(StftOptions.Librosa with { Center = center });
        float[] x = Noise(4096, 11);
        Tensor spec = stft.Forward(torch.tensor(x).to_type(ScalarType.Float64));
        Tensor batch = stft.Forward(torch.tensor(x).expand(3, 4096));

        Tensor y = stft.Inverse(spec, 0);
        Tensor yBatch = stft.Inverse(batch, 0);
        float[] yArray = stft.Inverse(stft.Forward(x), 0);

        Assert.Equal([0L], y.shape);
        Assert.Equal(ScalarType.Float64, y.dtype);
        Assert.Equal([3L, 0], yBatch.shape);
        Assert.Equal(ScalarType.Float32, yBatch.dtype);
        Assert.Empty(yArray);
    }

    [Fact]
    public void ForwardInverse_EmptyBatch_ArgumentExceptionWithShape()
    {
        using var scope = NewDisposeScope();
        using var stft = new Stft();

        var forward = Assert.Throws<ArgumentException>(() => stft.Forward(torch.zeros(0, 2048)));
        var inverse = Assert.Throws<ArgumentException>(() => stft.Inverse(torch.zeros(0, 513, 5, dtype: ScalarType.ComplexFloat32)));

        Assert.Equal("waveform", forward.ParamName);
        Assert.Contains("at least one signal in the batch; found shape [0, 2048]", forward.Message);
        Assert.Equal("spectrum", inverse.ParamName);
        Assert.Contains("at least one spectrogram in the batch; found shape [0, 513, 5]", inverse.Message);
    }

    [Fact]
    public void Inverse_OddNFftCentredWithoutLength_OneSampleMoreThanHopTimesGaps()
    {
        // Pins the documented default: the centred trim removes NFft / 2 (rounded down) from each end of
        // NFft + HopLength × (frames − 1), as torch.istft and librosa.istft do.
        using var scope = NewDisposeScope();
        using var stft = new Stft(new StftOptions { NFft = 255, HopLength = 64 });
        Tensor spec = stft.Forward(torch.tensor(Noise(961, 5)));
        Assert.Equal(16, spec.shape[^1]);

        Tensor y = stft.Inverse(spec);

        Assert.Equal([961L], y.shape);
    }

    [Theory]
    [InlineData(StftWindow.Hann)]
    [InlineData(StftWindow.Hamming)]
    [InlineData(StftWindow.Rectangular)]
    public void CreateWindow_WinLengthOne_OneLikeTorch(StftWindow window)
    {
        // The periodic formula at N = 1 gives cos(0) = 1, so Hann 0 and Hamming 0.08; torch and scipy both return [1].
        using var scope = NewDisposeScope();
        Tensor reference = window switch
        {
            StftWindow.Hann => torch.hann_window(1, periodic: true, dtype: ScalarType.Float64),
            StftWindow.Hamming => torch.hamming_window(1, periodic: true, dtype: ScalarType.Float64),
            _ => torch.ones(1, dtype: ScalarType.Float64),
        };

        double[] w = new StftOptions { NFft = 16, HopLength = 4, WinLength = 1, Window = window }.CreateWindow();

        Assert.Equal(reference.data<double>().ToArray(), w);
        Assert.Equal([1.0], w);
    }

    // NOLA: Σ_k w²[t + k·hop] > 0 for every t, the overlap-added squared window (zero-padded to NFft, centred).
    [Theory]
    [InlineData(1024, 512, StftWindow.Hann, null, true)]        // sin⁴ + cos⁴ ≥ 1/2 for a Hann window at half overlap
    [InlineData(400, 160, StftWindow.Hann, null, true)]         // more overlap than half: larger sums still
    [InlineData(256, 256, StftWindow.Rectangular, null, true)]  // each sample in exactly one frame, with weight 1
    [InlineData(256, 256, StftWindow.Hamming, null, true)]      // no overlap, but Hamming's smallest value is 0.08 > 0
    [InlineData(256, 256, StftWindow.Hann, null, false)]        // no overlap and Hann's w[0] = 0: sample 0 of each frame
    [InlineData(256, 300, StftWindow.Rectangular, null, false)] // hop > NFft: 44 samples per hop no frame covers
    [InlineData(1024, 512, StftWindow.Hann, 256, false)]        // the 256-sample window sits at 384..639 of 1024, hop 512:
                                                                 // t = 200 sums w²[200] + w²[712], both outside it
    public void SatisfiesNola_OverlapAddedSquaredWindow_PositiveEverywhereOrNot(int nFft, int hop, StftWindow window, int? winLength, bool expected)
    {
        using var stft = new Stft(new StftOptions { NFft = nFft, HopLength = hop, Window = window, WinLength = winLength });

        Assert.Equal(expected, stft.SatisfiesNola);
    }

    [Fact]
    public void Forward_ReflectPaddingOfASignalNoLongerThanHalfNFft_ArgumentExceptionWithBoth()
    {
        // Reflection mirrors the signal without its edge sample, so a pad of 512 needs 513 samples or more.
        using var scope = NewDisposeScope();
        using var stft = new Stft(StftOptions.LibrosaLegacy);

        var ex = Assert.Throws<ArgumentException>(() => stft.Forward(torch.zeros(512)));
        Tensor spec = stft.Forward(torch.zeros(513));

        Assert.Equal("waveform", ex.ParamName);
        Assert.Contains("Reflect padding needs more than NFft / 2 = 512 samples; found 512", ex.Message);
        Assert.Equal([513L, 2], spec.shape);   // 1 + 513 / 512 frames
    }

    [Fact]
    public void Forward_UncentredSignalShorterThanNFft_ArgumentExceptionWithBoth()
    {
        using var scope = NewDisposeScope();
        using var stft = new Stft(new StftOptions { NFft = 256, HopLength = 64, Center = false });

        var ex = Assert.Throws<ArgumentException>(() => stft.Forward(torch.zeros(255)));

        Assert.Equal("waveform", ex.ParamName);
        Assert.Contains("Without centring the signal must hold at least NFft = 256 samples; found 255", ex.Message);
        Assert.Equal([129L, 1], stft.Forward(torch.zeros(256)).shape);
    }

    [Theory]
    [InlineData(ScalarType.Int32)]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.ComplexFloat32)]
    public void Forward_NotFloat32OrFloat64_ArgumentExceptionNamingTheDtype(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var stft = new Stft();

        var ex = Assert.Throws<ArgumentException>(() => stft.Forward(torch.zeros(2000, dtype: dtype)));

        Assert.Equal("waveform", ex.ParamName);
        Assert.Contains($"Expected a float32 or float64 signal; found {dtype}", ex.Message);
    }

    [Fact]
    public void Inverse_RealOrWrongRankTensor_ArgumentExceptionWithDtypeAndShape()
    {
        using var scope = NewDisposeScope();
        using var stft = new Stft();

        var real = Assert.Throws<ArgumentException>(() => stft.Inverse(torch.zeros(513, 4)));
        var flat = Assert.Throws<ArgumentException>(() => stft.Inverse(torch.zeros(513, dtype: ScalarType.ComplexFloat32)));

        Assert.Equal("spectrum", real.ParamName);
        Assert.Contains("expects a complex (bins, frames) or (batch, bins, frames) tensor; found Float32 of shape [513, 4]", real.Message);
        Assert.Contains("found ComplexFloat32 of shape [513]", flat.Message);
    }

    [Fact]
    public void Inverse_OtherBinCount_ArgumentExceptionWithBoth()
    {
        using var scope = NewDisposeScope();
        using var stft = new Stft();

        var ex = Assert.Throws<ArgumentException>(() => stft.Inverse(torch.zeros(257, 4, dtype: ScalarType.ComplexFloat32)));

        Assert.Equal("spectrum", ex.ParamName);
        Assert.Contains("Stft.Inverse expects 513 frequency bins (NFft 1024 / 2 + 1); found 257", ex.Message);
    }

    [Fact]
    public void Inverse_NegativeLength_ArgumentOutOfRangeNamingIt()
    {
        using var scope = NewDisposeScope();
        using var stft = new Stft();

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => stft.Inverse(torch.zeros(513, 4, dtype: ScalarType.ComplexFloat32), -1));

        Assert.Equal("length", ex.ParamName);
        Assert.Equal(-1L, ex.ActualValue);
        Assert.Contains("The output length cannot be negative", ex.Message);
    }

    [Fact]
    public void Inverse_NoFrames_ArgumentExceptionFoundZero()
    {
        using var scope = NewDisposeScope();
        using var stft = new Stft();

        var ex = Assert.Throws<ArgumentException>(() => stft.Inverse(torch.zeros(2, 513, 0, dtype: ScalarType.ComplexFloat32)));

        Assert.Equal("spectrum", ex.ParamName);
        Assert.Contains("Stft.Inverse needs at least one frame; found 0", ex.Message);
    }

    [Fact]
    public void Dispose_Twice_ThenForwardAndInverseRefused()
    {
        using var scope = NewDisposeScope();
        var stft = new Stft();

        stft.Dispose();
        stft.Dispose();

        Assert.Throws<ObjectDisposedException>(() => stft.Forward(torch.zeros(2000)));
        Assert.Throws<ObjectDisposedException>(() => stft.Inverse(torch.zeros(513, 4, dtype: ScalarType.ComplexFloat32)));
    }

    [Theory]
    [InlineData(5, 6, "found 5 and 6")]
    [InlineData(6, 5, "found 6 and 5")]
    [InlineData(-1, 6, "found 0 and 6")]   // −1: the array is null
    [InlineData(6, -1, "found 6 and 0")]
    public void MagnitudePhaseAndInverse_PartsOfAnotherLengthThanBinsTimesFrames_ArgumentExceptionExpectedAndFound(int real, int imaginary, string found)
    {
        var spec = new ComplexSpectrogram(3, 2, real < 0 ? null! : new float[real], imaginary < 0 ? null! : new float[imaginary]);
        using var stft = new Stft(new StftOptions { NFft = 4, HopLength = 1 });

        var magnitude = Assert.Throws<ArgumentException>(spec.Magnitude);
        var phase = Assert.Throws<ArgumentException>(spec.Phase);
        var inverse = Assert.Throws<ArgumentException>(() => stft.Inverse(spec));

        foreach (ArgumentException ex in new[] { magnitude, phase, inverse })
        {
            Assert.Contains("A 3 × 2 spectrogram needs 6 real and imaginary parts", ex.Message);
            Assert.Contains(found, ex.Message);
        }
    }
}
