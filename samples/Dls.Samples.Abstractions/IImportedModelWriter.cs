using System.Text.Json.Nodes;
using TorchSharp;

namespace Dls.Samples.Abstractions;

/// <summary>
/// Saves what <c>weights import</c> loaded for architectures whose models need more than a plain checkpoint to be used
/// (a denoiser's sample rate and STFT settings, a speaker model's features and threshold). Plugins register one in
/// <see cref="ISamplePlugin.ConfigureServices"/> (<c>TryAddEnumerable</c> of a singleton); the host asks the one that
/// claims the architecture, and saves a plain checkpoint when none does, so it never needs to know the plugins' libraries.
/// </summary>
/// <remarks>
/// Settings are the import options a writer takes beyond the generic ones, by name: <c>features</c> is <c>--features
/// JSON</c> (any JSON value, as parsed), <c>threshold</c> is <c>--threshold T</c> (a finite number). The host refuses a
/// setting the claiming writer does not list, and passes only the settings given on the command line.
/// </remarks>
public interface IImportedModelWriter
{
    /// <summary>The architecture names (as given to <c>--architecture</c>) whose models this writer saves.</summary>
    IReadOnlyCollection<string> Architectures { get; }

    /// <summary>The settings this writer takes (see the remarks); empty when it takes none.</summary>
    IReadOnlyCollection<string> Settings { get; }

    /// <summary>
    /// Every problem with <paramref name="settings"/> for <paramref name="architecture"/> that is known before the model
    /// is built (a required setting missing, a value of the wrong form or range), each naming the option, what was expected
    /// and what was found; empty when there is none. The host reports them as usage errors while parsing.
    /// </summary>
    /// <param name="architecture">One of <see cref="Architectures"/>.</param>
    /// <param name="settings">The settings given, by name.</param>
    /// <returns>The problems.</returns>
    IReadOnlyList<string> Check(string architecture, JsonObject settings);

    /// <summary>
    /// Checks <paramref name="settings"/> against the loaded model and writes it (weights and sidecar, atomically); nothing
    /// is written when a check fails.
    /// </summary>
    /// <param name="path">The weights file to write; its sidecar is <c>path.json</c>.</param>
    /// <param name="model">The model, filled by the import. The caller owns it.</param>
    /// <param name="metadata">What the host records about the import (source file, names); stored in the sidecar.</param>
    /// <param name="settings">The settings given, by name; null or empty when none.</param>
    /// <returns>Lines for the human output: what was added to the checkpoint and what to do next; empty when nothing.</returns>
    /// <exception cref="ArgumentException">The model is not of an architecture this writer saves, or the settings do not
    /// fit it (the message says what was expected and what was found).</exception>
    IReadOnlyList<string> Save(string path, torch.nn.Module model, JsonObject metadata, JsonObject? settings);
}
