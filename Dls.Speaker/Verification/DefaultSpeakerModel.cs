using Dls.Models.Checkpoints;

namespace Dls.Speaker.Verification;

/// <summary>
/// The speaker model shipped inside Dls.Speaker (embedded resources <c>speaker-gru.ckpt</c> and its sidecar), trained on
/// the train speakers of the Dls speech corpus. It is written once to a per-content folder under the temporary
/// directory and loaded from there with the regular checkpoint code (which checks length and SHA-256).
/// </summary>
public static class DefaultSpeakerModel
{
    private const string WeightsResource = "Dls.Speaker.Models.speaker-gru.ckpt";
    private const string SidecarResource = "Dls.Speaker.Models.speaker-gru.ckpt.json";

    /// <summary>Whether the assembly carries the default model.</summary>
    public static bool IsAvailable => typeof(DefaultSpeakerModel).Assembly.GetManifestResourceInfo(WeightsResource) is not null;

    /// <summary>Loads a fresh copy of the shipped model (the caller owns its encoder).</summary>
    /// <exception cref="InvalidOperationException">This build of Dls.Speaker has no shipped model.</exception>
    public static SpeakerModel Load() => SpeakerModelFile.Load(ExtractedPath());

    /// <summary>The path of the extracted shipped model (extracting it on first use).</summary>
    /// <exception cref="InvalidOperationException">This build of Dls.Speaker has no shipped model.</exception>
    public static string ExtractedPath()
    {
        var assembly = typeof(DefaultSpeakerModel).Assembly;
        return Checkpoint.ExtractToTemporaryFolder("speaker-gru.ckpt", Read(assembly, WeightsResource), Read(assembly, SidecarResource));
    }

    private static byte[] Read(System.Reflection.Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"This build of Dls.Speaker carries no default speaker model (resource '{name}' is missing); pass a model path instead.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
