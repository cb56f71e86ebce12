using Dls.Compression.Modules;
using static TorchSharp.torch;

namespace Dls.Compression.Tests.Modules;

public sealed class TensorChecksTests
{
    [Fact]
    public void ThrowIfNonFinite_FiniteValues_Returns()
    {
        using var scope = NewDisposeScope();
        TensorChecks.ThrowIfNonFinite(randn(4, 3), "u");
        TensorChecks.ThrowIfNonFinite(zeros(0), "empty");
    }

    [Fact]
    public void ThrowIfNonFinite_SeveralBadEntries_NamesTheFirstInRowMajorOrderWithItsValue()
    {
        using var scope = NewDisposeScope();
        var values = zeros(2, 3, 4, dtype: ScalarType.Float64);
        values[1, 2, 0] = float.NegativeInfinity;
        values[1, 0, 3] = float.NaN;   // earlier in row-major order than [1, 2, 0]

        var e = Assert.Throws<ArgumentException>(() => TensorChecks.ThrowIfNonFinite(values, "v"));

        Assert.Equal("v", e.ParamName);
        Assert.StartsWith("Expected finite values in v; found NaN at [1, 0, 3] (v [2, 3, 4]).", e.Message);
    }

    [Fact]
    public void ThrowIfNonFinite_TensorThatRequiresGrad_ChecksWithoutRecordingAnything()
    {
        using var scope = NewDisposeScope();
        var weight = ones(3, requires_grad: true);
        using (no_grad())
            weight[1] = float.PositiveInfinity;

        var e = Assert.Throws<ArgumentException>(() => TensorChecks.ThrowIfNonFinite(weight, "weight"));

        Assert.Contains("found Infinity at [1]", e.Message);
        Assert.Null(weight.grad);
    }
}
