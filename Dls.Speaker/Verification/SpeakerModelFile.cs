using System.Text.Json;
using System.Text.Json.Nodes;
using Dls.Models.Checkpoints;
using Dls.Speaker.Encoders;
using Dls.Speaker.Features;

namespace Dls.Speaker.Verification;

/// <summary>A trained speaker model: the encoder, the features it expects and its calibrated decision threshold.</summary>
/// <param name="Encoder">The encoder (eval mode). The caller owns it.</param>
/// <param name="Features">The feature settings it was trained with.</param>
/// <param name="Threshold">The calibrated cosine threshold (at the development EER point unless stated otherwise).</param>
/// <param name="Info">The checkpoint sidecar (metadata such as validation EER), or null for a model not loaded from files.</param>
public sealed record SpeakerModel(GruSpeakerEncoder Encoder, SpeakerFeatureOptions Features, double Threshold, CheckpointInfo? Info)
{
    /// <summary>
    /// The mean embedding of the training speakers, which <see cref="SpeakerEmbedder"/> subtracts from every embedding
    /// before renormalizing (<see cref="SpeakerEmbeddings.Center"/>); <see cref="Threshold"/> then applies to centered
    /// cosines. Null (default) leaves the encoder's embeddings as they are.
    /// </summary>
    public IReadOnlyList<float>? EmbeddingMean { get; init; }
}

/// <summary>
/// Saves and loads <see cref="SpeakerModel"/>s in the Dls checkpoint format: the encoder's weights plus a JSON sidecar
/// whose metadata holds <c>features</c> (the <see cref="SpeakerFeatureOptions"/>) and <c>threshold</c>.
/// </summary>
public static class SpeakerModelFile
{
    /// <summary>Metadata key of the feature options.</summary>
    public const string FeaturesKey = "features";

    /// <summary>Metadata key of the decision threshold.</summary>
    public const string ThresholdKey = "threshold";

    /// <summary>Metadata key of <see cref="SpeakerModel.EmbeddingMean"/> (absent when null).</summary>
    public const string EmbeddingMeanKey = "embedding_mean";

    /// <summary>Saves a model (atomically, weights then sidecar).</summary>
    /// <param name="path">The weights path; the sidecar is <c>path.json</c>.</param>
    /// <param name="encoder">The encoder.</param>
    /// <param name="features">Its feature settings.</param>
    /// <param name="threshold">Its decision threshold.</param>
    /// <param name="metadata">More metadata to store (copied), e.g. validation EER; may be null.</param>
    /// <param name="embeddingMean">The model's <see cref="SpeakerModel.EmbeddingMean"/>, or null.</param>
    /// <exception cref="ArgumentException">A threshold outside [−1, 1], features whose size is not the encoder's input size,
    /// or an embedding mean of another length or with a non-finite value.</exception>
    public static CheckpointInfo Save(string path, GruSpeakerEncoder encoder, SpeakerFeatureOptions features, double threshold, JsonObject? metadata = null,
        IReadOnlyList<float>? embeddingMean = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(features);
        if (!(threshold >= -1 && threshold <= 1)) throw new ArgumentException($"Threshold must be in [−1, 1] (a cosine), found {threshold}.", nameof(threshold));
        if (features.FeatureSize != encoder.Options.InputSize)
            throw new ArgumentException($"Features give {features.FeatureSize} values per frame but the encoder expects {encoder.Options.InputSize}.", nameof(features));
        var meta = metadata?.DeepClone().AsObject() ?? new JsonObject();
        meta[FeaturesKey] = JsonSerializer.SerializeToNode(features, ModelArchitectures.JsonOptions);
        meta[ThresholdKey] = threshold;
        if (embeddingMean is not null)
        {
            bool nonFinite = embeddingMean.Any(v => !float.IsFinite(v));
            if (embeddingMean.Count != encoder.Options.EmbeddingSize || nonFinite)
                throw new ArgumentException($"Expected an embedding mean of {encoder.Options.EmbeddingSize} finite values, found {embeddingMean.Count} values{(nonFinite ? " with a non-finite one" : "")}.", nameof(embeddingMean));
            meta[EmbeddingMeanKey] = new JsonArray(embeddingMean.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
        }
        else
        {
            meta.Remove(EmbeddingMeanKey);
        }
        return Checkpoint.Save(path, encoder, meta);
    }

    /// <summary>Loads a model saved by <see cref="Save"/>.</summary>
    /// <exception cref="FileNotFoundException">The weights or sidecar are missing.</exception>
    /// <exception cref="InvalidDataException">The files are malformed, or not a speaker encoder with features and a
    /// threshold in [−1, 1] (see <see cref="ReadInfo"/>).</exception>
    public static SpeakerModel Load(string path)
    {
        // Every check of the sidecar (features against the encoder's input size among them) is made before the weights load.
        // Checkpoint.Load then reads and parses the sidecar a second time: Dls.Models has no public way to load weights
        // against an already-read CheckpointInfo (LoadWeights is private, and LoadInto reads the sidecar again too), and
        // the sidecar is a few kilobytes. Checkpoint.Load re-checks the architecture and verifies the weights against the
        // sidecar it read itself.
        var (info, features, threshold, embeddingMean) = ReadSidecar(path);
        return new SpeakerModel(Checkpoint.Load<GruSpeakerEncoder>(path), features, threshold, info) { EmbeddingMean = embeddingMean };
    }

    /// <summary>
    /// Reads and checks a speaker model's sidecar without loading the weights: a <see cref="GruSpeakerEncoder"/> with
    /// valid options, valid feature settings whose size is the encoder's input size, a threshold in [−1, 1] (a cosine) and,
    /// when present, an embedding mean of the embedding size. What DI validation runs on start.
    /// </summary>
    /// <param name="path">The weights path; the sidecar is <c>path.json</c>.</param>
    /// <returns>The sidecar.</returns>
    /// <exception cref="FileNotFoundException">The weights or sidecar are missing.</exception>
    /// <exception cref="InvalidDataException">The sidecar is malformed or does not describe a speaker model (the message names the file).</exception>
    public static CheckpointInfo ReadInfo(string path) => ReadSidecar(path).Info;

    private static (CheckpointInfo Info, SpeakerFeatureOptions Features, double Threshold, float[]? EmbeddingMean) ReadSidecar(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        SpeakerArchitectures.Register();
        if (!File.Exists(path)) throw new FileNotFoundException($"Speaker model '{path}' not found.", path);
        var info = Checkpoint.ReadInfo(path);
        if (info.Architecture != GruSpeakerEncoder.ArchitectureName || info.Options is null)
            throw new InvalidDataException($"Speaker model '{path}': expected architecture '{GruSpeakerEncoder.ArchitectureName}' with options, found '{info.Architecture ?? "(none)"}'.");
        GruSpeakerEncoderOptions encoder;
        try
        {
            encoder = info.Options.Deserialize<GruSpeakerEncoderOptions>(ModelArchitectures.JsonOptions)
                ?? throw new InvalidDataException($"Speaker model '{path}': the encoder options are null.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Speaker model '{path}': the encoder options are not GruSpeakerEncoderOptions: {e.Message}", e);
        }
        var encoderErrors = encoder.Validate();
        if (encoderErrors.Count > 0) throw new InvalidDataException($"Speaker model '{path}': invalid encoder options: {string.Join(" ", encoderErrors)}");
        var featuresNode = info.Metadata[FeaturesKey]
            ?? throw new InvalidDataException($"Speaker model '{path}': expected metadata '{FeaturesKey}' in the sidecar, found none.");
        SpeakerFeatureOptions features;
        try
        {
            features = featuresNode.Deserialize<SpeakerFeatureOptions>(ModelArchitectures.JsonOptions)
                ?? throw new InvalidDataException($"Speaker model '{path}': metadata '{FeaturesKey}' is null.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Speaker model '{path}': metadata '{FeaturesKey}' is not SpeakerFeatureOptions: {e.Message}", e);
        }
        var featureErrors = features.Validate();
        if (featureErrors.Count > 0) throw new InvalidDataException($"Speaker model '{path}': invalid feature options: {string.Join(" ", featureErrors)}");
        if (features.FeatureSize != encoder.InputSize)
            throw new InvalidDataException($"Speaker model '{path}': features give {features.FeatureSize} values per frame, the encoder expects {encoder.InputSize}.");
        // A cosine threshold outside [−1, 1] accepts everything or nothing; blame the file, not a caller's argument.
        double threshold = info.Metadata[ThresholdKey] is JsonValue v && v.TryGetValue<double>(out var t) && t >= -1 && t <= 1
            ? t
            : throw new InvalidDataException($"Speaker model '{path}': expected a number in [−1, 1] (a cosine) as metadata '{ThresholdKey}', found {info.Metadata[ThresholdKey]?.ToJsonString() ?? "none"}.");
        return (info, features, threshold, ReadEmbeddingMean(info.Metadata[EmbeddingMeanKey], encoder.EmbeddingSize, path));
    }

    private static float[]? ReadEmbeddingMean(JsonNode? node, int embeddingSize, string path)
    {
        if (node is null) return null;
        float[]? mean = null;
        try
        {
            mean = node is JsonArray array ? array.Select(v => v?.GetValue<float>() ?? float.NaN).ToArray() : null;
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
        }
        if (mean is null || mean.Length != embeddingSize || mean.Any(v => !float.IsFinite(v)))
            throw new InvalidDataException($"Speaker model '{path}': expected metadata '{EmbeddingMeanKey}' to be an array of {embeddingSize} finite numbers, found {Truncate(node.ToJsonString())}.");
        return mean;
    }

    private static string Truncate(string text) => text.Length <= 80 ? text : text[..80] + "…";
}
