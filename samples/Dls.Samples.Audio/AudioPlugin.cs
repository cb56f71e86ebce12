using System.CommandLine;
using Dls.Samples.Abstractions;
using Microsoft.Extensions.DependencyInjection;

namespace Dls.Samples.Audio;

/// <summary>
/// The <c>audio</c> plugin: sox-like utilities on WAV files (<c>audio info|convert|snr|mix|spectrogram</c>), a
/// self-contained demonstration task and the <c>bench audio</c> speed figures of Dls.Audio.
/// </summary>
public sealed class AudioPlugin : ISamplePlugin
{
    /// <inheritdoc />
    public string Name => "audio";

    /// <inheritdoc />
    public string Description => "WAV utilities (info, convert, snr, mix, spectrogram) and Dls.Audio benchmarks.";

    /// <inheritdoc />
    public IReadOnlyList<SampleTask> Tasks { get; } =
    [
        new SampleTask("audio-demo", "Synthesises a voiced signal, mixes noise at 5 dB, reports SNR/SI-SDR and draws spectrograms.", AudioDemoTask.RunAsync)
        {
            Order = 10,
        },
    ];

    /// <inheritdoc />
    public IReadOnlyList<BenchmarkArea> Benchmarks { get; } =
    [
        new BenchmarkArea("audio", "STFT/ISTFT round trip (library vs bare torch), WAV PCM16 read/write, 48→16 kHz resampling.", AudioBenchmark.RunAsync),
    ];

    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services)
    {
        // The audio utilities are static and stateless: nothing to register.
        ArgumentNullException.ThrowIfNull(services);
    }

    /// <inheritdoc />
    public IEnumerable<Command> CreateCommands(ISampleHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        yield return AudioCommands.Create(host);
    }
}
