using Dls.Models.Mnist;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dls.Models.Tests.Mnist;

/// <summary>What the MNIST networks and their façade do with inputs they cannot classify.</summary>
[Collection("TorchGlobalState")]
public sealed class MnistClassifierInputTests
{
    private static readonly MnistMlpOptions Tiny = new() { InputSize = 16, HiddenSize = 12, HiddenLayers = 3, Classes = 4 };

    private static MnistClassifier Classifier()
    {
        using var model = new MnistMlp(Tiny);
        model.eval();
        return new MnistClassifier(model);
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "Infinity")]
    [InlineData(float.NegativeInfinity, "-Infinity")]
    public void Predict_NonFinitePixel_ThrowsWithIndexAndValue(float bad, string shown)
    {
        using var classifier = Classifier();
        var pixels = new float[3 * 16];
        pixels[20] = bad;   // image 1, pixel 4

        var e = Assert.Throws<ArgumentException>(() => classifier.Predict(pixels));

        Assert.Equal("pixels", e.ParamName);
        Assert.Contains($"found {shown} at index 20 (image 1, pixel 4)", e.Message);
    }

    [Fact]
    public void Logits_NaNAfterFinitePixels_ReportsTheFirstNonFinite()
    {
        using var classifier = Classifier();
        var pixels = new float[2 * 16];
        pixels[31] = float.PositiveInfinity;
        pixels[17] = float.NaN;

        var e = Assert.Throws<ArgumentException>(() => classifier.Logits(pixels));

        Assert.Contains("found NaN at index 17 (image 1, pixel 1)", e.Message);
    }

    [Fact]
    public void Forward_NaNImage_NonFiniteLogitsInThatRowOnly()
    {
        // The tensor path does not scan (see its documentation): the NaN must stay visible, and confined to its image.
        using var classifier = Classifier();
        using var images = torch.zeros(3, 16);
        images[2, 5] = float.NaN;

        using var mode = torch.inference_mode();
        using var logits = classifier.Forward(images);

        float[] values = logits.data<float>().ToArray();
        int classes = (int)logits.shape[1];
        Assert.All(values[..(2 * classes)], v => Assert.True(float.IsFinite(v)));
        Assert.All(values[(2 * classes)..], v => Assert.True(float.IsNaN(v)));
    }

    [Theory]
    [InlineData(ScalarType.Byte)]
    [InlineData(ScalarType.Float64)]
    public void Forward_NonFloat32Images_ThrowsNamingDtype(ScalarType dtype)
    {
        using var classifier = Classifier();
        using var images = torch.zeros([2, 16], dtype);

        using var mode = torch.inference_mode();
        var e = Assert.Throws<ArgumentException>(() => classifier.Forward(images));

        Assert.Equal("images", e.ParamName);
        Assert.Contains($"Expected float32 images, found {dtype}", e.Message);
        Assert.Contains("images.to(ScalarType.Float32)", e.Message);
    }

    [Theory]
    [InlineData(ScalarType.Byte, false)]
    [InlineData(ScalarType.Float64, false)]
    [InlineData(ScalarType.Byte, true)]
    [InlineData(ScalarType.Float64, true)]
    public void Forward_ModuleWithNonFloat32Input_ThrowsNamingDtype(ScalarType dtype, bool lowRank)
    {
        using Module<Tensor, Tensor> model = lowRank ? new LowRankMlp(new LowRankMlpOptions { Shape = Tiny, Rank = 2 }) : new MnistMlp(Tiny);
        using var images = torch.zeros([2, 16], dtype);

        var e = Assert.Throws<ArgumentException>(() => model.call(images));

        Assert.Equal("input", e.ParamName);
        Assert.Contains($"Expected Float32 input (the dtype of the weights), found {dtype}", e.Message);
    }

    [Theory]
    [InlineData(new long[] { 2, 15 }, "[2×15]")]
    [InlineData(new long[] { 16 }, "[16]")]
    [InlineData(new long[] { 1, 4, 4 }, "[1×4×4]")]
    public void ClassifierForward_NotBatchOfFeatures_ThrowsWithShape(long[] shape, string shown)
    {
        using var classifier = Classifier();
        using var images = torch.zeros(shape);

        var e = Assert.Throws<ArgumentException>(() => classifier.Forward(images));

        Assert.Equal("images", e.ParamName);
        Assert.Contains($"Expected (batch, 16) images, found {shown}", e.Message);
    }
}
