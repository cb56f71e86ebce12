using Microsoft.Extensions.Logging;

namespace Dls.Samples.Abstractions;

/// <summary>Everything a <see cref="SampleTask"/> needs to run.</summary>
public sealed class TaskContext
{
    /// <summary>Creates a context.</summary>
    /// <param name="host">The running host.</param>
    /// <param name="outputDirectory">Where results go.</param>
    /// <param name="dataDirectory">The <c>--data</c> folder, or <see langword="null"/> for the embedded default.</param>
    /// <param name="seed">The random seed.</param>
    /// <param name="quick">Whether to run a shortened version (smoke tests, CI).</param>
    /// <param name="logger">The task's logger.</param>
    public TaskContext(ISampleHost host, string outputDirectory, string? dataDirectory, int seed, bool quick, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputDirectory);
        Host = host;
        OutputDirectory = outputDirectory;
        DataDirectory = dataDirectory;
        Seed = seed;
        Quick = quick;
        Logger = logger ?? throw new ArgumentNullException(nameof(logger));
        Results = new ResultsWriter(outputDirectory);
    }

    /// <summary>The running host.</summary>
    public ISampleHost Host { get; }

    /// <summary>The <c>--data</c> folder, or <see langword="null"/> for the embedded default data.</summary>
    public string? DataDirectory { get; }

    /// <summary>Where results go (<c>--out</c>, default <c>results</c>).</summary>
    public string OutputDirectory { get; }

    /// <summary>The random seed (<c>--seed</c>).</summary>
    public int Seed { get; }

    /// <summary>Whether a shortened run was asked for (<c>--quick</c>).</summary>
    public bool Quick { get; }

    /// <summary>Writes JSON, Markdown and plot files into <see cref="OutputDirectory"/>.</summary>
    public ResultsWriter Results { get; }

    /// <summary>Progress reporting.</summary>
    public IProgressReporter Progress => Host.Progress;

    /// <summary>The task's logger.</summary>
    public ILogger Logger { get; }

    /// <summary>Standard output.</summary>
    public TextWriter Out => Host.Out;
}

/// <summary>Everything a <see cref="BenchmarkArea"/> needs to run.</summary>
public sealed class BenchContext
{
    /// <summary>Creates a context.</summary>
    /// <param name="host">The running host.</param>
    /// <param name="quick">Whether to measure briefly (smoke tests).</param>
    /// <param name="logger">The benchmark's logger.</param>
    public BenchContext(ISampleHost host, bool quick, ILogger logger)
    {
        Host = host ?? throw new ArgumentNullException(nameof(host));
        Quick = quick;
        Logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>The running host.</summary>
    public ISampleHost Host { get; }

    /// <summary>Whether to measure briefly (smoke tests) rather than precisely.</summary>
    public bool Quick { get; }

    /// <summary>Progress reporting.</summary>
    public IProgressReporter Progress => Host.Progress;

    /// <summary>The benchmark's logger.</summary>
    public ILogger Logger { get; }

    /// <summary>Standard output (human-readable lines; the JSON goes through the host).</summary>
    public TextWriter Out => Host.Out;
}
