using Dls.Speaker.Features;
using static TorchSharp.torch;

namespace Dls.Speaker.Tests.Features;

public sealed class SpeakerFeatureExtractorTests
{
    [Fact]
    public void Forward_LogMagnitude_Has513BinsAndCentredFrameCount()
    {
        using var scope = NewDisposeScope();
        using var extractor = new SpeakerFeatureExtractor();
        var x = TestAudio.Voice(120, 1.0, 1.0, seed: 1);
        var f = extractor.Forward(x);
        // Centred STFT with hop 512: 1 + 16000 / 512 = 32 frames; n_fft 1024 gives 513 bins.
        Assert.Equal(new long[] { 32, 513 }, f.shape);
        Assert.Equal(32, extractor.FrameCount(x.Length));
        // Log of (magnitude + 1e-3) can never go below log(1e-3).
        Assert.True(f.min().item<float>() >= Math.Log(1e-3) - 1e-4);
    }

    [Theory]
    [InlineData(1024, 512, 16000)]
    [InlineData(255, 64, 960)]    // odd NFft: torch and librosa pad 127 per side and make 15 frames, not 1 + 960 / 64 = 16
    [InlineData(255, 64, 1000)]
    public void FrameCount_AnyNFft_EqualsTheFramesForwardMakes(int nFft, int hop, int samples)
    {
        using var scope = NewDisposeScope();
        using var extractor = new SpeakerFeatureExtractor(new SpeakerFeatureOptions { NFft = nFft, HopLength = hop });
        var x = TestAudio.Voice(120, 1.0, samples / 16000.0, seed: 3);

        Assert.Equal(extractor.Forward(x).shape[0], extractor.FrameCount(x.Length));
    }

    [Fact]
    public void Forward_MagnitudeKind_IsExpOfLogMagnitudeMinusFloor()
    {
        using var scope = NewDisposeScope();
        using var log = new SpeakerFeatureExtractor(new SpeakerFeatureOptions { Kind = SpeakerFeatureKind.LogMagnitude });
        using var mag = new SpeakerFeatureExtractor(new SpeakerFeatureOptions { Kind = SpeakerFeatureKind.Magnitude });
        var x = TestAudio.Voice(200, 1.5, 0.5, seed: 2);
        // float32 exp/log round trip: 1e-4 relative.
        Assert.True(allclose(log.Forward(x).exp() - 1e-3, mag.Forward(x), rtol: 1e-4, atol: 1e-4));
    }

    [Fact]
    public void Forward_LogMel_HasMelBins()
    {
        using var scope = NewDisposeScope();
        using var extractor = new SpeakerFeatureExtractor(new SpeakerFeatureOptions { Kind = SpeakerFeatureKind.LogMel, MelBins = 40 });
        Assert.Equal(40, extractor.Options.FeatureSize);
        Assert.Equal(new long[] { 2, 17, 40 }, extractor.Forward(zeros(2, 8192) + 0.1).shape);
    }

    [Fact]
    public void Constructor_InvalidOptions_ListsEveryProblem()
    {
        var ex = Assert.Throws<ArgumentException>(() => new SpeakerFeatureExtractor(new SpeakerFeatureOptions { HopLength = 0, LogFloor = 0 }));
        Assert.Contains("HopLength", ex.Message);
        Assert.Contains("LogFloor", ex.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(512)]
    public void Forward_ShorterThanOneFrame_ThrowsWithLength(int samples)
    {
        using var scope = NewDisposeScope();
        using var extractor = new SpeakerFeatureExtractor();
        // Before: a single 513-bin frame computed from reflect padding of next to nothing.
        var plain = Assert.Throws<ArgumentException>(() => extractor.Forward(new float[samples]));
        Assert.Contains($"expected more than 512 samples for one STFT frame (n_fft 1024), found {samples}", plain.Message);
        var batch = Assert.Throws<ArgumentException>(() => extractor.Forward(zeros(2, samples)));
        Assert.Contains($"found {samples}", batch.Message);
    }

    [Fact]
    public void Forward_ScalarTensor_ThrowsWithShape()
    {
        using var scope = NewDisposeScope();
        using var extractor = new SpeakerFeatureExtractor();
        var ex = Assert.Throws<ArgumentException>(() => extractor.Forward(tensor(1f)));
        Assert.Contains("found shape ()", ex.Message);
    }

    [Fact]
    public void Forward_JustOverHalfFft_OneFrame()
    {
        using var scope = NewDisposeScope();
        using var extractor = new SpeakerFeatureExtractor();
        Assert.Equal(new long[] { 2, 513 }, extractor.Forward(new float[513]).shape);
    }
}
