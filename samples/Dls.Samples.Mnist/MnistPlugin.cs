using System.CommandLine;
using Dls.Models.Mnist;
using Dls.Samples.Abstractions;
using Microsoft.Extensions.DependencyInjection;

namespace Dls.Samples.Mnist;

/// <summary>The <c>mnist</c> plugin: the baseline MLP (Q1), SVD compression without retraining (Q2), low-rank training (Q3), and its benchmark.</summary>
public sealed class MnistPlugin : ISamplePlugin
{
    /// <inheritdoc />
    public string Name => "mnist";

    /// <inheritdoc />
    public string Description => "MNIST MLP baseline, truncated-SVD compression and low-rank training (assignment Q1-Q3).";

    /// <inheritdoc />
    public IReadOnlyList<SampleTask> Tasks { get; } =
    [
        new("mnist-baseline", "Q1: train the 784-1024x5-10 MLP, report test accuracy, save the best model.", MnistTasks.BaselineAsync) { Order = 100 },
        new("mnist-svd", "Q2: factorize the trained baseline at D = 10, 20, 50, 100, 200, full without retraining.", MnistTasks.SvdAsync) { Order = 110 },
        new("mnist-lowrank", "Q3: the SVD-initialized D = 20 network fine-tuned, next to the same network trained from scratch.", MnistTasks.LowRankAsync) { Order = 120 },
    ];

    /// <inheritdoc />
    public IReadOnlyList<BenchmarkArea> Benchmarks { get; } =
    [
        new("mnist", "Trainer vs bare loop samples/s, matmul GFLOP/s, dense vs rank-20 inference latency.", MnistBenchmark.RunAsync),
    ];

    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services) => services.AddDlsMnistModels();

    /// <inheritdoc />
    public IEnumerable<Command> CreateCommands(ISampleHost host) => [];
}
