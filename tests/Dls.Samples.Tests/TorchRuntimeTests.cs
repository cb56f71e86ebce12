using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Samples.Tests;

public sealed class TorchRuntimeTests
{
    [Fact]
    public void Matmul_InTestHost_LoadsNativeLibtorchAndComputes()
    {
        // Loading libtorch is what fails on Debian 12 without the build's libstdc++ fix; the product of two
        // small integer matrices is exact in float32, so the comparison needs no tolerance.
        using var scope = NewDisposeScope();
        Tensor a = tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2);
        Tensor b = tensor(new float[] { 5, 6, 7, 8 }).reshape(2, 2);
        float[] product = matmul(a, b).data<float>().ToArray();
        Assert.Equal(new float[] { 19, 22, 43, 50 }, product);
        Assert.StartsWith("2.10", __version__);
    }
}
