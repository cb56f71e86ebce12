using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;

namespace Dls.Samples.Abstractions;

/// <summary>
/// One assignment task area (mnist, audio, denoise, speaker) as the host sees it. Implementations are public sealed
/// classes with a parameterless constructor; the host finds them by reflection in the <c>Dls.Samples.*.dll</c>
/// assemblies next to it, so adding a plugin never means editing the host.
/// </summary>
public interface ISamplePlugin
{
    /// <summary>Short lower-case name, e.g. <c>mnist</c>.</summary>
    string Name { get; }

    /// <summary>One line shown by <c>dls-samples list</c>.</summary>
    string Description { get; }

    /// <summary>Tasks runnable with <c>dls-samples run &lt;task&gt;</c>; those marked for it also run in <c>reproduce</c>.</summary>
    IReadOnlyList<SampleTask> Tasks { get; }

    /// <summary>Benchmark areas for <c>dls-samples bench &lt;area&gt;</c>.</summary>
    IReadOnlyList<BenchmarkArea> Benchmarks { get; }

    /// <summary>Adds the plugin's services (models, façades) to the host's container.</summary>
    /// <param name="services">The host's service collection.</param>
    void ConfigureServices(IServiceCollection services);

    /// <summary>Extra top-level commands (for example <c>audio info</c> or <c>denoise</c>).</summary>
    /// <param name="host">Services, output and progress of the running host.</param>
    IEnumerable<Command> CreateCommands(ISampleHost host);
}

/// <summary>A named piece of work that writes results (JSON, Markdown, plots) into the output folder.</summary>
/// <param name="Name">The name given to <c>run</c>, e.g. <c>mnist-baseline</c>.</param>
/// <param name="Description">One line for <c>list</c>.</param>
/// <param name="RunAsync">The work itself.</param>
public sealed record SampleTask(string Name, string Description, Func<TaskContext, CancellationToken, Task> RunAsync)
{
    /// <summary>Whether <c>reproduce</c> runs this task.</summary>
    public bool IncludeInReproduce { get; init; } = true;

    /// <summary>Position within <c>reproduce</c> (ascending; ties keep plugin order).</summary>
    public int Order { get; init; }
}

/// <summary>A benchmark whose figures are returned as one JSON object.</summary>
/// <param name="Name">The area given to <c>bench</c>, e.g. <c>mnist</c>.</param>
/// <param name="Description">One line for <c>list</c>.</param>
/// <param name="RunAsync">Measures and returns the figures.</param>
public sealed record BenchmarkArea(string Name, string Description, Func<BenchContext, CancellationToken, Task<System.Text.Json.Nodes.JsonObject>> RunAsync);
