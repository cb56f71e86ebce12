using Dls.Audio.Spectral;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Audio.Tests.Spectral;

public sealed class SpectrumTests
{
    [Fact]
    public void FromPolar_ComplexInput_ArgumentExceptionWithBothDtypes()
    {
        using var scope = NewDisposeScope();

        var ex = Assert.Throws<ArgumentException>(() =>
            Spectrum.FromPolar(torch.zeros(3, 4, dtype: ScalarType.ComplexFloat32), torch.zeros(3, 4)));

        Assert.Contains("FromPolar expects real magnitude and phase; found ComplexFloat32 and Float32", ex.Message);
    }

    [Fact]
    public void FromPolar_DifferentShapes_ArgumentExceptionWithBothShapes()
    {
        using var scope = NewDisposeScope();

        var ex = Assert.Throws<ArgumentException>(() => Spectrum.FromPolar(torch.zeros(3, 4), torch.zeros(3, 5)));

        Assert.Contains("Magnitude and phase must have the same shape; found [3, 4] and [3, 5]", ex.Message);
    }

    [Fact]
    public void FromPolar_DifferentDtypes_ArgumentExceptionWithBothDtypes()
    {
        using var scope = NewDisposeScope();

        var ex = Assert.Throws<ArgumentException>(() =>
            Spectrum.FromPolar(torch.zeros(3, 4), torch.zeros(3, 4, dtype: ScalarType.Float64)));

        Assert.Contains("Magnitude and phase must have the same dtype; found Float32 and Float64", ex.Message);
    }

    [Fact]
    public void MagnitudeAndPhase_RealTensor_ArgumentExceptionWithDtypeAndShape()
    {
        using var scope = NewDisposeScope();
        Tensor real = torch.zeros(2, 513, 7, dtype: ScalarType.Float64);

        var magnitude = Assert.Throws<ArgumentException>(() => Spectrum.Magnitude(real));
        var phase = Assert.Throws<ArgumentException>(() => Spectrum.Phase(real));

        foreach (ArgumentException ex in new[] { magnitude, phase })
        {
            Assert.Equal("spectrum", ex.ParamName);
            Assert.Contains("Expected a complex spectrum; found Float64 of shape [2, 513, 7]", ex.Message);
        }
    }
}
