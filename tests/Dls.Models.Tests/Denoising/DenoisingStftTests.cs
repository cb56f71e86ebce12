using Dls.Audio.Spectral;
using Dls.Models.Denoising;
using static TorchSharp.torch;

namespace Dls.Models.Tests.Denoising;

public sealed class DenoisingStftTests
{
    [Fact]
    public void Forward_Signal_IsDlsAudioLibrosaLegacyStftTransposed()
    {
        float[] x = DenoisingFixtures.Add(DenoisingFixtures.Tone(5000), DenoisingFixtures.Noise(5000));
        using var reference = new Stft(StftOptions.LibrosaLegacy);
        using var scope = NewDisposeScope();

        Tensor ours = DenoisingStft.Forward(tensor(x).unsqueeze(0));
        Tensor theirs = reference.Forward(tensor(x)).unsqueeze(0).transpose(1, 2);

        // The same transform (one of each): identical operations, so identical values.
        Assert.Equal([1L, DenoisingStft.FrameCount(5000), 513], ours.shape);
        Assert.Equal(0f, ours.sub(theirs).abs().max().item<float>());
    }

    [Fact]
    public void Inverse_OfForward_ReconstructsSignal()
    {
        float[] x = DenoisingFixtures.Add(DenoisingFixtures.Tone(7777), DenoisingFixtures.Noise(7777));
        using var scope = NewDisposeScope();

        float[] y = DenoisingStft.Inverse(DenoisingStft.Forward(tensor(x).unsqueeze(0)), x.Length).squeeze(0).data<float>().ToArray();

        // Hann at 50 % overlap satisfies NOLA; float32 FFT round trip: ~1e-7 observed, 1e-5 allowed.
        Assert.True(DenoisingFixtures.MaxAbsDifference(x, y) < 1e-5f);
    }

    [Fact]
    public void Window_IsTheTransformsPeriodicHann()
    {
        using Tensor w = DenoisingStft.Window();
        using Tensor torchHann = hann_window(1024, periodic: true);

        // Computed in double and rounded once vs torch's float32 formula: last-bit differences only.
        Assert.True(w.sub(torchHann).abs().max().item<float>() < 1e-6f);
        Assert.Equal(StftPadMode.Reflect, DenoisingStft.Options.PadMode);
    }

    [Theory]
    [InlineData(new long[] { 1000 }, "(1000)")]
    [InlineData(new long[] { 2, 512 }, "(2, 512)")]
    public void Forward_NotBatchOfMoreThanHalfAWindow_ThrowsWithShape(long[] shape, string shown)
    {
        using Tensor waveform = zeros(shape);

        var e = Assert.Throws<ArgumentException>(() => DenoisingStft.Forward(waveform));

        Assert.Equal("waveform", e.ParamName);
        Assert.Contains($"Expected a waveform of shape (batch, samples) with samples > 512; found {shown}", e.Message);
    }

    [Theory]
    [InlineData("real", "Float32 (1, 3, 513)")]
    [InlineData("bins", "ComplexFloat32 (1, 3, 100)")]
    [InlineData("rank", "ComplexFloat32 (3, 513)")]
    public void Inverse_NotComplexBatchOf513Bins_ThrowsWithTypeAndShape(string kind, string shown)
    {
        using var scope = NewDisposeScope();
        Tensor spectrum = kind switch
        {
            "real" => zeros(1, 3, 513),
            "bins" => complex(zeros(1, 3, 100), zeros(1, 3, 100)),
            _ => complex(zeros(3, 513), zeros(3, 513)),
        };

        var e = Assert.Throws<ArgumentException>(() => DenoisingStft.Inverse(spectrum, 1024));

        Assert.Equal("spectrum", e.ParamName);
        Assert.Contains($"Expected a complex spectrum of shape (batch, frames, 513); found {shown}", e.Message);
    }
}
