using Dls.Models.Mnist;
using Dls.Models.Training;
using TorchSharp;

namespace Dls.Models.Tests.Mnist;

[Collection("TorchGlobalState")]
public sealed class MnistTrainingProblemTests
{
    /// <summary>300 4×4 "images": class k lights pixel k (k &lt; 4), plus noise; trivially learnable.</summary>
    private static MnistSplit Synthetic(int count, int seed)
    {
        var rng = new Random(seed);
        var pixels = new byte[count * 16];
        var labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = (byte)rng.Next(4);
            for (int p = 0; p < 16; p++) pixels[i * 16 + p] = (byte)rng.Next(60);
            pixels[i * 16 + labels[i]] = 255;
        }
        return new MnistSplit(pixels, labels, 4, 4);
    }

    [Fact]
    public void Trainer_OnSyntheticDigits_ReachesHighAccuracy()
    {
        torch.manual_seed(5);
        using var model = new LowRankMlp(new LowRankMlpOptions { Shape = new MnistMlpOptions { InputSize = 16, HiddenSize = 16, HiddenLayers = 2, Classes = 4 }, Rank = 4 });
        using var problem = new MnistTrainingProblem(Synthetic(300, 1), Synthetic(100, 2), batchSize: 32);
        Assert.Equal(10, problem.BatchesPerEpoch); // ceil(300 / 32)
        var result = new Trainer(new TrainerOptions { Epochs = 4, LearningRate = 0.02, MonitorMetric = "val_acc", HigherIsBetter = true }).Fit(model, problem);
        // One bright pixel per class: a rank-4 MLP separates this almost perfectly; 0.9 leaves room for the seed.
        Assert.True(result.BestMetric >= 0.9, $"val_acc {result.BestMetric}");
        Assert.True(result.History[^1].Metrics["val_loss"] < result.History[0].Metrics["val_loss"]);
    }

    [Fact]
    public void TrainBatches_CoverEverySampleOnce()
    {
        using var problem = new MnistTrainingProblem(Synthetic(70, 3), Synthetic(10, 4), batchSize: 32);
        var sizes = new List<long>();
        foreach (var batch in problem.TrainBatches(1, new Random(1)))
        {
            sizes.Add(problem.CountSamples(batch));
            batch.Images.Dispose();
            batch.Labels.Dispose();
        }
        Assert.Equal([32L, 32L, 6L], sizes);
    }

    [Fact]
    public void Constructor_SplitsOfOtherImageSizes_ThrowsNamingBoth()
    {
        var test = new MnistSplit(new byte[2 * 9], [1, 2], 3, 3);

        var e = Assert.Throws<ArgumentException>(() => new MnistTrainingProblem(Synthetic(10, 1), test));

        Assert.Equal("test", e.ParamName);
        Assert.Contains("Training images have 16 pixels, test images 9; expected equal sizes", e.Message);
    }

    [Fact]
    public void LossAndValidate_ModelNotTensorToTensor_ThrowNamingItsType()
    {
        using var problem = new MnistTrainingProblem(Synthetic(10, 1), Synthetic(5, 2), batchSize: 4);
        using var bilinear = torch.nn.Bilinear(16, 16, 4);
        using var scope = torch.NewDisposeScope();   // the batch's tensors, even when an assertion fails
        MnistBatch batch = problem.TrainBatches(1, new Random(1)).First();

        var loss = Assert.Throws<ArgumentException>(() => problem.Loss(bilinear, batch));
        var validate = Assert.Throws<ArgumentException>(() => problem.Validate(bilinear, CancellationToken.None));

        Assert.All(new[] { loss, validate }, e =>
        {
            Assert.Equal("model", e.ParamName);
            Assert.Contains("Expected a Module<Tensor, Tensor> classifier, found Bilinear", e.Message);
        });
    }
}
