using System.Text.Json.Nodes;

namespace Dls.Models.Checkpoints;

/// <summary>What rebuilds a model: a registered architecture name and the constructor options as JSON.</summary>
/// <param name="Architecture">A name registered in <see cref="ModelArchitectures"/>, e.g. <c>mnist-mlp</c>.</param>
/// <param name="Options">The constructor options, serialized with <see cref="ModelArchitectures.JsonOptions"/>.</param>
public sealed record ModelDescription(string Architecture, JsonObject Options);

/// <summary>A model that can describe how to rebuild itself, so <see cref="Checkpoint.Load(string)"/> needs only the files.</summary>
public interface IDescribedModel
{
    /// <summary>The architecture name and constructor options of this instance.</summary>
    /// <returns>A fresh description (the caller may keep or modify it).</returns>
    ModelDescription Describe();
}
