using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace Dls.Samples.Abstractions;

/// <summary>What the running host offers to plugin commands.</summary>
public interface ISampleHost
{
    /// <summary>The container, built once after every plugin's <see cref="ISamplePlugin.ConfigureServices"/>.</summary>
    IServiceProvider Services { get; }

    /// <summary>Progress bars (interactive) or periodic plain lines (redirected output).</summary>
    IProgressReporter Progress { get; }

    /// <summary>Standard output.</summary>
    TextWriter Out { get; }

    /// <summary>Logging (console, level raised by <c>--verbose</c>).</summary>
    ILoggerFactory LoggerFactory { get; }

    /// <summary>Writes <paramref name="result"/> as one compact JSON line on standard output; call it last.</summary>
    /// <param name="result">The figures.</param>
    void WriteJsonResult(JsonObject result);
}

/// <summary>Reports progress of long work.</summary>
public interface IProgressReporter
{
    /// <summary>Starts a unit of work of <paramref name="total"/> steps.</summary>
    /// <param name="description">What is being done, e.g. <c>baseline epoch 3/5</c>.</param>
    /// <param name="total">Number of steps (at least 1).</param>
    IProgressTask Start(string description, long total);
}

/// <summary>One unit of work being reported; dispose it when done.</summary>
public interface IProgressTask : IDisposable
{
    /// <summary>Sets the number of completed steps and, optionally, a short status such as the current loss.</summary>
    /// <param name="completed">Steps done so far.</param>
    /// <param name="status">A short status text, or <see langword="null"/> to keep the previous one.</param>
    void Report(long completed, string? status = null);

    /// <summary>Adds <paramref name="by"/> completed steps.</summary>
    /// <param name="by">Steps to add.</param>
    void Increment(long by = 1);
}
