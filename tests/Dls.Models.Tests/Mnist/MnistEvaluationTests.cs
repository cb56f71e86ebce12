using Dls.Models.Mnist;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Tests.Mnist;

[Collection("TorchGlobalState")]
public sealed class MnistEvaluationTests
{
    private static MnistMlp Model() => new(new MnistMlpOptions { InputSize = 16, HiddenSize = 8, HiddenLayers = 1, Classes = 4 });

    [Fact]
    public void Evaluate_NoImages_Throws()
    {
        using var model = Model();
        using var images = torch.zeros(0, 16);
        using var labels = torch.zeros([0], ScalarType.Int64);

        var e = Assert.Throws<ArgumentException>(() => MnistEvaluation.Evaluate(model, images, labels));

        Assert.Equal("images", e.ParamName);
        Assert.Contains("Expected at least one image, found shape [0×16]", e.Message);
    }

    [Fact]
    public void Evaluate_FloatLabels_ThrowsNamingDtype()
    {
        using var model = Model();
        using var images = torch.zeros(3, 16);
        using var labels = torch.zeros(3);

        var e = Assert.Throws<ArgumentException>(() => MnistEvaluation.Evaluate(model, images, labels));

        Assert.Equal("labels", e.ParamName);
        Assert.Contains("Expected int64 class indices, found Float32", e.Message);
    }

    [Theory]
    [InlineData(12L)]
    [InlineData(4L)]
    [InlineData(-1L)]
    public void Evaluate_LabelOutOfRange_ThrowsWithValueAndIndex(long bad)
    {
        using var model = Model();
        using var images = torch.zeros(5, 16);
        using var labels = torch.tensor(new long[] { 0, 3, 1, bad, 2 });

        var e = Assert.Throws<ArgumentException>(() => MnistEvaluation.Evaluate(model, images, labels, chunk: 2));

        Assert.Equal("labels", e.ParamName);
        Assert.Contains($"Expected labels in [0, 4) (the model's 4 classes), found {bad} at index 3", e.Message);
    }

    [Fact]
    public void Evaluate_ValidLabels_ReturnsFiniteLossAndAccuracy()
    {
        using var model = Model();
        using var images = torch.rand(5, 16);
        using var labels = torch.tensor(new long[] { 0, 3, 1, 2, 2 });

        var (loss, accuracy) = MnistEvaluation.Evaluate(model, images, labels, chunk: 2);

        Assert.True(double.IsFinite(loss) && loss > 0, $"loss {loss}");
        Assert.InRange(accuracy, 0, 1);
    }

    [Theory]
    [InlineData(new long[] { 2 }, "[2]")]
    [InlineData(new long[] { 3, 1 }, "[3×1]")]
    public void Evaluate_LabelsNotOnePerImage_ThrowsWithCountAndShape(long[] shape, string shown)
    {
        using var model = Model();
        using var images = torch.zeros(3, 16);
        using var labels = torch.zeros(shape, ScalarType.Int64);

        var e = Assert.Throws<ArgumentException>(() => MnistEvaluation.Evaluate(model, images, labels));

        Assert.Equal("labels", e.ParamName);
        Assert.Contains($"Expected one label per image (3), found shape {shown}", e.Message);
    }
}
