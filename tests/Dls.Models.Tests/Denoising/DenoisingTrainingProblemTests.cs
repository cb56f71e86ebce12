using Dls.Models.Denoising;
using Dls.Models.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Tests.Denoising;

[Collection("TorchGlobalState")]
public sealed class DenoisingTrainingProblemTests
{
    private static (DenoisingTrainingProblem Problem, IReadOnlyList<DenoisingExample> Validation) Problem(DenoisingLoss loss)
    {
        var mixer = new OnTheFlyMixer([DenoisingFixtures.Tone(12000, 1), DenoisingFixtures.Tone(12000, 2)], [DenoisingFixtures.Noise(8000, 3)]);
        var rng = new Random(1);
        var validation = new[] { mixer.Mix(rng), mixer.Mix(rng) };
        var options = new DenoisingTrainingOptions { BatchSize = 2, BatchesPerEpoch = 2, MaxSegmentSamples = 4096, Loss = loss };
        return (new DenoisingTrainingProblem([], mixer, validation, options), validation);
    }

    [Theory]
    [InlineData(DenoisingLoss.Magnitude)]
    [InlineData(DenoisingLoss.WaveformSnr)]
    public void Loss_TinyBatch_FiniteAndGivesGradients(DenoisingLoss kind)
    {
        (DenoisingTrainingProblem problem, _) = Problem(kind);
        using var model = new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 4));
        DenoisingBatch batch = problem.TrainBatches(0, new Random(2)).First();
        using var scope = NewDisposeScope();

        Tensor loss = problem.Loss(model, batch);
        loss.backward();

        Assert.True(float.IsFinite(loss.item<float>()));
        Assert.Contains(model.parameters(), p => p.grad is not null && p.grad.abs().sum().item<float>() > 0);
        Assert.Equal(2, problem.CountSamples(batch));
    }

    [Fact]
    public void Fit_OneEpoch_ReportsSnrImprovementMetric()
    {
        (DenoisingTrainingProblem problem, _) = Problem(DenoisingLoss.Magnitude);
        using var model = new FcMaskNetwork(new FcMaskNetworkOptions(HiddenSize: 8));

        TrainingResult result = new Trainer(new TrainerOptions { Epochs = 1, MonitorMetric = DenoisingTrainingProblem.SnrImprovementMetric, HigherIsBetter = true }).Fit(model, problem);

        Assert.True(double.IsFinite(result.History[0].Metrics[DenoisingTrainingProblem.SnrImprovementMetric]));
    }

    [Fact]
    public void Loss_NotAMaskNetwork_ThrowsNamingType()
    {
        (DenoisingTrainingProblem problem, _) = Problem(DenoisingLoss.Magnitude);
        using var model = nn.Linear(3, 3);
        DenoisingBatch batch = problem.TrainBatches(0, new Random(2)).First();

        var e = Assert.Throws<ArgumentException>(() => problem.Loss(model, batch));

        Assert.Contains("found Linear", e.Message);
    }
}
