using System.Text.Json;
using Dls.Audio.Spectral;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Audio.Tests.Spectral;

/// <summary>Parity with PyTorch/librosa STFTs computed in float64 (TestData/reference/stft).</summary>
public sealed class StftReferenceTests
{
    public static TheoryData<string> Cases => new()
    {
        "librosa010_default_1024_512",
        "librosa08_reflect_1024_512",
        "nocenter_512_128",
        "winlen400_nfft512_hop160",
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_Float64_MatchesReferenceTo1e10(string name)
    {
        var (options, x, re, im, shape, _) = Load(name);
        using var scope = NewDisposeScope();
        using var stft = new Stft(options);

        Tensor spec = stft.Forward(torch.tensor(x, dtype: ScalarType.Float64));

        Assert.Equal(shape, spec.shape);
        // Issue 4: ≤ 1e-10 relative (Frobenius) error in float64.
        Assert.InRange(RelativeError(spec, re, im), 0, 1e-10);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_Float32_MatchesReferenceTo1e5(string name)
    {
        var (options, x, re, im, shape, _) = Load(name);
        using var scope = NewDisposeScope();
        using var stft = new Stft(options);

        Tensor spec = stft.Forward(torch.tensor(x, dtype: ScalarType.Float64).to_type(ScalarType.Float32));

        Assert.Equal(ScalarType.ComplexFloat32, spec.dtype);
        Assert.Equal(shape, spec.shape);
        // Issue 4: ≤ 1e-5 relative error in float32 (float32 FFTs of ~1000 points reach ~1e-7).
        Assert.InRange(RelativeError(spec, re, im), 0, 1e-5);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Inverse_Float64_MatchesReferenceIstft(string name)
    {
        var (options, x, re, im, shape, istft) = Load(name);
        using var scope = NewDisposeScope();
        using var stft = new Stft(options);
        Tensor spectrum = torch.complex(
            torch.tensor(re, dtype: ScalarType.Float64).view(shape),
            torch.tensor(im, dtype: ScalarType.Float64).view(shape));

        if (istft.Length == 0)
        {
            // The reference could not invert this one either (periodic Hann is 0 at the first sample and there is
            // no centring): the library must refuse with a message naming the NOLA condition.
            var ex = Assert.Throws<ArgumentException>(() => stft.Inverse(spectrum, x.Length));
            Assert.Contains("NOLA", ex.Message);
            return;
        }

        Tensor y = stft.Inverse(spectrum, x.Length);

        double[] got = y.data<double>().ToArray();
        Assert.Equal(istft.Length, got.Length);
        // Relative L2 error against PyTorch's float64 istft; both are exact overlap-add up to rounding.
        Assert.InRange(Relative(got, istft), 0, 1e-10);
    }

    internal static (StftOptions Options, double[] X, double[] Re, double[] Im, long[] Shape, double[] Istft) Load(string name)
    {
        JsonElement j = TestData.Json("reference", "stft", name + ".json");
        var options = new StftOptions
        {
            NFft = j.GetProperty("n_fft").GetInt32(),
            HopLength = j.GetProperty("hop_length").GetInt32(),
            WinLength = j.GetProperty("win_length").GetInt32(),
            Center = j.GetProperty("center").GetBoolean(),
            PadMode = j.GetProperty("pad_mode").GetString() == "reflect" ? StftPadMode.Reflect : StftPadMode.Constant,
            Window = StftWindow.Hann,
        };
        Assert.Equal("hann(periodic)", j.GetProperty("window").GetString());
        long[] shape = j.GetProperty("stft_shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        return (options, j.GetProperty("x").Doubles(), j.GetProperty("stft_real").Doubles(), j.GetProperty("stft_imag").Doubles(), shape, j.GetProperty("istft").Doubles());
    }

    private static double RelativeError(Tensor spec, double[] re, double[] im)
    {
        Tensor c = spec.to_type(ScalarType.ComplexFloat64);
        double[] gotRe = torch.real(c).contiguous().data<double>().ToArray();
        double[] gotIm = torch.imag(c).contiguous().data<double>().ToArray();
        double num = 0, den = 0;
        for (int i = 0; i < re.Length; i++)
        {
            num += ((gotRe[i] - re[i]) * (gotRe[i] - re[i])) + ((gotIm[i] - im[i]) * (gotIm[i] - im[i]));
            den += (re[i] * re[i]) + (im[i] * im[i]);
        }

        return Math.Sqrt(num / den);
    }

    internal static double Relative(IReadOnlyList<double> got, IReadOnlyList<double> expected)
    {
        double num = 0, den = 0;
        for (int i = 0; i < expected.Count; i++)
        {
            num += (got[i] - expected[i]) * (got[i] - expected[i]);
            den += expected[i] * expected[i];
        }

        return Math.Sqrt(num / den);
    }
}
