using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Dls.Models.Checkpoints;
using Dls.Samples.Abstractions;
using Dls.Speaker.Encoders;
using Dls.Speaker.Features;
using Dls.Speaker.Verification;
using TorchSharp;

namespace Dls.Samples.Speaker;

/// <summary>
/// <c>weights import --architecture gru-speaker-encoder</c>: saves a speaker model (<see cref="SpeakerModelFile"/>), which
/// <c>verify</c>, <c>speaker-eval</c> and <c>AddDlsSpeakerVerifier</c> take, from the encoder and two settings:
/// <c>--features</c> (required) and <c>--threshold</c> (default <see cref="DefaultThreshold"/>, stored as not calibrated).
/// </summary>
internal sealed class SpeakerModelImportWriter : IImportedModelWriter
{
    /// <summary>The threshold stored when none is given: a starting point only, to be calibrated with <c>speaker-eval</c>.</summary>
    public const double DefaultThreshold = 0.5;

    /// <summary>Metadata key saying whether the stored threshold was calibrated on data (always false for an import).</summary>
    public const string ThresholdCalibratedKey = "threshold_calibrated";

    private const string FeaturesSetting = "features";
    private const string ThresholdSetting = "threshold";
    private const string Example = """--features '{"kind": "magnitude"}' (|STFT| at 16 kHz, n_fft 1024, hop 512, the assignment's)""";

    /// <summary>
    /// The library's snake_case JSON settings, with a key that maps to no property an error, and a property given twice
    /// ("kind" and "Kind": the kind checked below would not be the one kept).
    /// </summary>
    private static readonly JsonSerializerOptions StrictJson = new(ModelArchitectures.JsonOptions)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowDuplicateProperties = false,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    };

    private static readonly string[] Keys = StrictJson.GetTypeInfo(typeof(SpeakerFeatureOptions)).Properties.Select(p => p.Name).ToArray();

    private static readonly string[] Kinds = Enum.GetNames<SpeakerFeatureKind>().Select(JsonNamingPolicy.SnakeCaseLower.ConvertName).ToArray();

    public IReadOnlyCollection<string> Architectures => [GruSpeakerEncoder.ArchitectureName];

    public IReadOnlyCollection<string> Settings => [FeaturesSetting, ThresholdSetting];

    public IReadOnlyList<string> Check(string architecture, JsonObject settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return Read(settings).Problems;
    }

    public IReadOnlyList<string> Save(string path, torch.nn.Module model, JsonObject metadata, JsonObject? settings)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(metadata);
        if (model is not GruSpeakerEncoder encoder)
        {
            throw new ArgumentException($"Expected a {nameof(GruSpeakerEncoder)} ({GruSpeakerEncoder.ArchitectureName}), found a {model.GetType().Name}.", nameof(model));
        }

        var (features, threshold, problems) = Read(settings ?? []);
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(settings));
        }

        int inputSize = encoder.Options.InputSize;
        if (features!.FeatureSize != inputSize)
        {
            // Checked here, not while parsing: the encoder's input size comes from --options or --options-file.
            throw new ArgumentException(
                $"--features: expected features of the encoder's input_size, {inputSize} values per frame ({Fits(inputSize)}), found {Describe(features)}; nothing was written.",
                nameof(settings));
        }

        var meta = metadata.DeepClone().AsObject();
        meta[ThresholdCalibratedKey] = false;
        SpeakerModelFile.Save(path, encoder, features, threshold, meta);
        return
        [
            string.Create(CultureInfo.InvariantCulture, $"speaker model: {Describe(features)}; threshold {threshold} ({(settings?[ThresholdSetting] is null ? "the default, " : "")}not calibrated)"),
            $"calibrate it on your own development speakers: dls-samples speaker-eval --data DEV --model {path} (its EER threshold, or the one for --far RATE), " +
                $"then pass it to verify --model {path} --threshold T",
        ];
    }

    /// <summary>The feature options and threshold in <paramref name="settings"/>, or every problem with them.</summary>
    private static (SpeakerFeatureOptions? Features, double Threshold, List<string> Problems) Read(JsonObject settings)
    {
        var problems = new List<string>();
        double threshold = DefaultThreshold;
        if (settings[ThresholdSetting] is { } thresholdNode)
        {
            // The host passes a finite number; anything else is a caller's mistake, reported the same way.
            if (thresholdNode is JsonValue v && v.TryGetValue(out double t) && t >= -1 && t <= 1)
            {
                threshold = t;
            }
            else
            {
                problems.Add($"--threshold: expected a number from -1 to 1 (a cosine), found {thresholdNode.ToJsonString()}.");
            }
        }

        if (!settings.TryGetPropertyValue(FeaturesSetting, out JsonNode? node))
        {
            problems.Add(
                $"--features: a {GruSpeakerEncoder.ArchitectureName} needs the features it was trained on, and a guessed kind would give wrong embeddings " +
                $"without any error; expected a JSON object of SpeakerFeatureOptions such as {Example}, or kind log_magnitude or log_mel, found none.");
            return (null, threshold, problems);
        }

        if (node is not JsonObject json)
        {
            problems.Add($"--features: expected a JSON object such as {{\"kind\": \"magnitude\"}}, found {Shorten(node?.ToJsonString() ?? "null")}.");
            return (null, threshold, problems);
        }

        string[] unknown = json.Select(p => p.Key).Where(k => !Keys.Contains(k, StringComparer.OrdinalIgnoreCase)).ToArray();
        if (unknown.Length > 0)
        {
            // A misspelled key would otherwise be dropped and its setting left at the default: other features, silently.
            problems.Add($"--features: expected keys of SpeakerFeatureOptions [{string.Join(", ", Keys)}], found unknown key(s) [{string.Join(", ", unknown)}].");
            return (null, threshold, problems);
        }

        // The kind is required for the same reason as --features itself, and must be a name: the enum converter would also
        // take a number (1 = magnitude).
        JsonNode? kind = json.FirstOrDefault(p => string.Equals(p.Key, "kind", StringComparison.OrdinalIgnoreCase)).Value;
        if (kind is not JsonValue kindValue || !kindValue.TryGetValue(out string? kindName) || !Kinds.Contains(kindName, StringComparer.OrdinalIgnoreCase))
        {
            problems.Add($"--features: expected \"kind\" to be one of [{string.Join(", ", Kinds)}], found {(kind is null ? "none" : kind.ToJsonString())}.");
            return (null, threshold, problems);
        }

        SpeakerFeatureOptions features;
        try
        {
            features = json.Deserialize<SpeakerFeatureOptions>(StrictJson)!;
        }
        catch (JsonException e)
        {
            problems.Add($"--features: expected SpeakerFeatureOptions, found {Shorten(json.ToJsonString())} ({e.Message}).");
            return (null, threshold, problems);
        }

        problems.AddRange(features.Validate().Select(p => $"--features: {p}"));
        // feature_size is computed (the sidecar shows it); one given that disagrees means the user meant other settings.
        if (json.FirstOrDefault(p => string.Equals(p.Key, "feature_size", StringComparison.OrdinalIgnoreCase)).Value is { } size
            && !(size is JsonValue sizeValue && sizeValue.TryGetValue(out int given) && given == features.FeatureSize))
        {
            problems.Add($"--features: \"feature_size\" follows from kind, n_fft and mel_bins, which give {features.FeatureSize} here, found {size.ToJsonString()}; leave it out.");
        }

        return (problems.Count == 0 ? features : null, threshold, problems);
    }

    private static string Describe(SpeakerFeatureOptions f) => string.Create(CultureInfo.InvariantCulture,
        $"{JsonNamingPolicy.SnakeCaseLower.ConvertName(f.Kind.ToString())} at {f.SampleRate} Hz, n_fft {f.NFft}, hop {f.HopLength}{(f.Kind == SpeakerFeatureKind.LogMel ? $", {f.MelBins} mel bins" : "")}, {f.FeatureSize} values per frame");

    /// <summary>Feature settings that give <paramref name="size"/> values per frame.</summary>
    private static string Fits(int size) => size >= 9
        ? $"\"n_fft\": {2 * (size - 1)} for magnitude or log_magnitude, or \"mel_bins\": {size} for log_mel"
        : $"\"mel_bins\": {size} for log_mel";

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..60] + "…";
}
