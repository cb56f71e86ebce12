using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Compression.Modules;

/// <summary>
/// Argument checks on tensors that the Dls libraries make at their boundaries, so that a NaN or ±∞ is reported where it
/// enters, by position, instead of spreading silently through every later result.
/// </summary>
public static class TensorChecks
{
    /// <summary>
    /// Throws an <see cref="ArgumentException"/> naming the first NaN or ±∞ entry of <paramref name="values"/> (row-major
    /// order) by its index and value; returns when every entry is finite. One element-wise pass and a reduction, no
    /// gradient recorded.
    /// </summary>
    /// <param name="values">A floating-point tensor of any shape.</param>
    /// <param name="name">The argument's name, used in the message and as the exception's parameter name.</param>
    /// <exception cref="ArgumentException">An entry is NaN or ±∞, e.g. "Expected finite values in u; found NaN at [2, 1] (u [4, 3])."</exception>
    public static void ThrowIfNonFinite(Tensor values, string name)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var bad = values.detach().isfinite().logical_not_().flatten();
        if (!bad.any().item<bool>())
            return;
        // argmax returns the first maximum: the first non-finite entry in row-major order.
        long flat = bad.to(ScalarType.Byte).argmax().item<long>();
        double value = values.detach().flatten()[flat].to(ScalarType.Float64).item<double>();
        long[] shape = values.shape, index = new long[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            index[d] = flat % shape[d];
            flat /= shape[d];
        }
        throw new ArgumentException(
            $"Expected finite values in {name}; found {value.ToString(CultureInfo.InvariantCulture)} at [{string.Join(", ", index)}] ({name} [{string.Join(", ", shape)}]).",
            name);
    }
}
