using System.CommandLine;
using Dls.Samples.Abstractions;
using Dls.Speaker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Dls.Samples.Speaker;

/// <summary>
/// The <c>speaker</c> plugin: Siamese training of the GRU speaker encoder (<c>run speaker-train</c>), verification of
/// WAV files against an enrollment (<c>verify</c>), trial-list evaluation (<c>speaker-eval</c>) and <c>bench speaker</c>.
/// </summary>
public sealed class SpeakerPlugin : ISamplePlugin
{
    /// <inheritdoc />
    public string Name => "speaker";

    /// <inheritdoc />
    public string Description => "Speaker verification: BiGRU encoder trained as a Siamese network; EER, minDCF, DET.";

    /// <inheritdoc />
    public IReadOnlyList<SampleTask> Tasks { get; } =
    [
        new SampleTask("speaker-train", "Trains the speaker encoder on the train speakers, evaluates EER/minDCF on the unseen test speakers, compresses it.", SpeakerTrainTask.RunAsync)
        {
            Order = 40,
        },
    ];

    /// <inheritdoc />
    public IReadOnlyList<BenchmarkArea> Benchmarks { get; } =
    [
        new BenchmarkArea("speaker", "Embedding speed (seconds of audio per second) and Siamese training pairs per second.", SpeakerBenchmark.RunAsync),
    ];

    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        // The shipped model, its calibrated threshold; created on first use only.
        services.AddDlsSpeakerVerifier();
        // weights import --architecture gru-speaker-encoder saves a speaker model (features, threshold), not a bare checkpoint.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IImportedModelWriter, SpeakerModelImportWriter>());
    }

    /// <inheritdoc />
    public IEnumerable<Command> CreateCommands(ISampleHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        yield return SpeakerCommands.Verify(host);
        yield return SpeakerCommands.Evaluate(host);
    }
}
