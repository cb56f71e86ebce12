using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dls.Audio.IO;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dls.Models.Checkpoints;

/// <summary>One entry of a model's state dictionary: a parameter or buffer name, its shape and element type.</summary>
/// <param name="Name">The state-dict key, e.g. <c>layers.0.weight</c>.</param>
/// <param name="Shape">The tensor shape.</param>
/// <param name="DType">The element type, e.g. <c>Float32</c>.</param>
public sealed record StateEntry(string Name, IReadOnlyList<long> Shape, string DType)
{
    /// <summary>Formats as <c>name [d0×d1] dtype</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"{Name} [{string.Join("×", Shape)}] {DType}";
}

/// <summary>The sidecar of a checkpoint.</summary>
/// <param name="FormatVersion">The sidecar format version (currently 1).</param>
/// <param name="Architecture">The architecture name, or null for a model that does not describe itself.</param>
/// <param name="Options">The architecture's constructor options (null when <paramref name="Architecture"/> is null).</param>
/// <param name="ModelType">The .NET type of the saved module (informative).</param>
/// <param name="SavedUtc">When the checkpoint was written.</param>
/// <param name="WeightsBytes">Length of the weights file.</param>
/// <param name="WeightsSha256">SHA-256 of the weights file, lower-case hex.</param>
/// <param name="State">The saved state dictionary's names, shapes and types, in file order.</param>
/// <param name="Metadata">Free-form metadata (epoch, metric, training history…).</param>
public sealed record CheckpointInfo(
    int FormatVersion,
    string? Architecture,
    JsonObject? Options,
    string ModelType,
    DateTimeOffset SavedUtc,
    long WeightsBytes,
    string WeightsSha256,
    IReadOnlyList<StateEntry> State,
    JsonObject Metadata);

/// <summary>
/// The one checkpoint format of Dls: TorchSharp weights (<c>Module.save</c>) at <c>path</c> plus a JSON sidecar at
/// <c>path.json</c> naming the architecture, its constructor options, the state-dict layout, the weights' length and
/// SHA-256, and metadata. Both files are written atomically, weights first, so a half-written checkpoint is detected.
/// </summary>
public static class Checkpoint
{
    /// <summary>The current sidecar format version.</summary>
    public const int FormatVersion = 1;

    /// <summary>The sidecar path of a checkpoint.</summary>
    /// <param name="path">The weights path.</param>
    /// <returns><paramref name="path"/> + <c>.json</c>.</returns>
    public static string SidecarPath(string path) => path + ".json";

    /// <summary>Saves a model that describes itself (<see cref="IDescribedModel"/>); other models are saved without an architecture.</summary>
    /// <param name="path">The weights file; the sidecar goes to <see cref="SidecarPath"/>.</param>
    /// <param name="model">The model.</param>
    /// <param name="metadata">Metadata to store (copied); null stores none.</param>
    /// <returns>The sidecar as written.</returns>
    /// <exception cref="ArgumentException">The metadata holds NaN or ±∞ (the message names its key path); nothing is written.</exception>
    public static CheckpointInfo Save(string path, Module model, JsonObject? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Save(path, model, (model as IDescribedModel)?.Describe(), metadata);
    }

    /// <summary>Saves a model with an explicit description.</summary>
    /// <param name="path">The weights file; the sidecar goes to <see cref="SidecarPath"/>.</param>
    /// <param name="model">The model.</param>
    /// <param name="description">Architecture and options; null when the model cannot be rebuilt from the files (load it with <see cref="LoadInto(Module, string)"/>).</param>
    /// <param name="metadata">Metadata to store (copied); null stores none.</param>
    /// <returns>The sidecar as written.</returns>
    /// <exception cref="ArgumentException">The metadata or the options hold NaN or ±∞ (the message names the key path); nothing is written.</exception>
    public static CheckpointInfo Save(string path, Module model, ModelDescription? description, JsonObject? metadata = null) =>
        Save(path, model, description, metadata, []);

    /// <summary>
    /// Saves a model together with companion files (the trainer's optimizer state): the sidecar is serialized before
    /// anything is written, every file goes to a temporary name first, and the renames run last — companions, weights,
    /// sidecar — so a failure leaves the previous checkpoint whole (<see cref="AtomicFile.WriteAll"/>).
    /// </summary>
    internal static CheckpointInfo Save(string path, Module model, ModelDescription? description, JsonObject? metadata,
        IReadOnlyList<(string Path, byte[] Content)> companions)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(model);
        // JSON has no NaN or ±∞; System.Text.Json's own refusal comes at serialization and does not say where the value is.
        ThrowIfNotFinite(metadata, "metadata", nameof(metadata));
        ThrowIfNotFinite(description?.Options, "options", nameof(description));
        using var scope = torch.NewDisposeScope();
        var weights = new MemoryStream();
        using (var writer = new BinaryWriter(weights, System.Text.Encoding.UTF8, leaveOpen: true))
            model.save(writer);
        string sha = Convert.ToHexStringLower(SHA256.HashData(weights.GetBuffer().AsSpan(0, (int)weights.Length)));
        var info = new CheckpointInfo(
            FormatVersion,
            description?.Architecture,
            description?.Options.DeepClone().AsObject(),
            model.GetType().FullName ?? model.GetType().Name,
            DateTimeOffset.UtcNow,
            weights.Length,
            sha,
            StateOf(model),
            metadata?.DeepClone().AsObject() ?? new JsonObject());
        // Serialized first: anything else the JSON cannot hold fails here, before any file is touched.
        byte[] sidecar = new System.Text.UTF8Encoding(false).GetBytes(ToJson(info).ToJsonString(ModelArchitectures.JsonOptions));
        var files = companions.Select(c => (c.Path, (Action<Stream>)(s => s.Write(c.Content)))).ToList();
        files.Add((path, s => weights.WriteTo(s)));
        files.Add((SidecarPath(path), s => s.Write(sidecar)));
        AtomicFile.WriteAll(files);
        return info;
    }

    /// <summary>Throws naming the first NaN or ±∞ number under <paramref name="node"/> by its key path (<c>metadata.history[0].loss</c>).</summary>
    private static void ThrowIfNotFinite(JsonNode? node, string root, string parameter)
    {
        if (FirstNotFinite(node, root) is var (path, value))
            throw new ArgumentException(
                $"Expected finite numbers in the checkpoint's {root} (JSON has no NaN or infinity), found {value.ToString(System.Globalization.CultureInfo.InvariantCulture)} at {path}.", parameter);
    }

    private static (string Path, double Value)? FirstNotFinite(JsonNode? node, string path)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, child) in o)
                    if (FirstNotFinite(child, $"{path}.{key}") is { } found)
                        return found;
                return null;
            case JsonArray a:
                for (int i = 0; i < a.Count; i++)
                    if (FirstNotFinite(a[i], $"{path}[{i}]") is { } found)
                        return found;
                return null;
            case JsonValue v:
                // Only numbers held as double or float can be non-finite; parsed JSON (JsonElement) never is.
                double value = v.TryGetValue(out double d) ? d : v.TryGetValue(out float f) ? f : 0;
                return double.IsFinite(value) ? null : (path, value);
            default:
                return null;
        }
    }

    /// <summary>
    /// Copies a checkpoint (weights and sidecar) after checking that the two belong together, writing both as one unit
    /// (<see cref="AtomicFile.WriteAll"/>): how a run publishes the checkpoint it trained in a scratch folder, replacing
    /// an earlier one only once the new one is known good.
    /// </summary>
    /// <param name="source">The weights path of the checkpoint to copy.</param>
    /// <param name="destination">The weights path to write; its sidecar goes to <see cref="SidecarPath"/>.</param>
    /// <returns>The sidecar as copied.</returns>
    /// <exception cref="FileNotFoundException">The source weights or sidecar are missing.</exception>
    /// <exception cref="InvalidDataException">The source sidecar is malformed, or the weights do not match it.</exception>
    /// <exception cref="ArgumentException">Source and destination are the same file.</exception>
    public static CheckpointInfo Copy(string source, string destination)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        ArgumentException.ThrowIfNullOrWhiteSpace(destination);
        if (string.Equals(Path.GetFullPath(source), Path.GetFullPath(destination), StringComparison.Ordinal))
            throw new ArgumentException($"Expected a destination other than the source; found '{source}' for both.", nameof(destination));
        CheckpointFiles files = ReadFiles(source);
        files.WriteTo(destination);
        return files.Info;
    }

    /// <summary>
    /// Reads a checkpoint's two files into memory after checking that the weights are the ones its sidecar describes
    /// (length and SHA-256): what a run holds while it writes the checkpoint together with other files as one unit
    /// (<see cref="CheckpointFiles.WritesTo"/> with <see cref="AtomicFile.WriteAll"/>), e.g. a model and the figures
    /// measured on it.
    /// </summary>
    /// <param name="path">The weights path.</param>
    /// <returns>Both files' bytes and the parsed sidecar.</returns>
    /// <exception cref="FileNotFoundException">The weights or the sidecar are missing.</exception>
    /// <exception cref="InvalidDataException">The sidecar is malformed, or the weights do not match it.</exception>
    public static CheckpointFiles ReadFiles(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string sidecarPath = SidecarPath(path);
        if (!File.Exists(sidecarPath))
            throw new FileNotFoundException($"Checkpoint sidecar '{sidecarPath}' not found (a checkpoint is '{path}' plus '{sidecarPath}').", sidecarPath);
        // The sidecar is read once and parsed from those bytes, so the pair returned is the pair that was checked.
        byte[] sidecar = File.ReadAllBytes(sidecarPath);
        var info = FromJson(ParseSidecar(new MemoryStream(sidecar, writable: false), sidecarPath), sidecarPath);
        byte[] weights = ReadCheckedWeights(path, info);
        return new CheckpointFiles(info, weights, sidecar);
    }

    /// <summary>
    /// Writes a checkpoint held in memory (the models embedded in the Dls assemblies) to a folder under the temporary
    /// directory named by the SHA-256 of both files, once, and returns its weights path, so that it loads through the
    /// regular code. A copy found there is used only when both files equal the given bytes; anything else (a damaged or
    /// half-written copy) is written anew, as one unit (<see cref="AtomicFile.WriteAll"/>). Safe from many threads and
    /// processes at once.
    /// </summary>
    /// <param name="fileName">The weights file name, e.g. <c>speaker-gru.ckpt</c>.</param>
    /// <param name="weights">The weights file's bytes.</param>
    /// <param name="sidecar">The sidecar's bytes.</param>
    /// <returns>The weights path.</returns>
    public static string ExtractToTemporaryFolder(string fileName, byte[] weights, byte[] sidecar)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(fileName);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(sidecar);
        if (Path.GetFileName(fileName) != fileName)
            throw new ArgumentException($"Expected a file name without folders; found '{fileName}'.", nameof(fileName));
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(weights);
        hash.AppendData(sidecar);
        string folder = Path.Combine(Path.GetTempPath(), "dls-models", Path.GetFileNameWithoutExtension(fileName) + "-" + Convert.ToHexStringLower(hash.GetHashAndReset())[..16]);
        string path = Path.Combine(folder, fileName);
        lock (ExtractGate)
        {
            if (!HoldsExactly(path, weights) || !HoldsExactly(SidecarPath(path), sidecar))
                WritePair(path, weights, sidecar);
        }
        return path;
    }

    private static readonly object ExtractGate = new();

    /// <summary>Writes a checkpoint's two files as one unit.</summary>
    private static void WritePair(string path, byte[] weights, byte[] sidecar) =>
        AtomicFile.WriteAll(PairWrites(path, weights, sidecar));

    /// <summary>A checkpoint's two files as writes for <see cref="AtomicFile.WriteAll"/>: weights first, sidecar last.</summary>
    internal static (string Path, Action<Stream> Write)[] PairWrites(string path, byte[] weights, byte[] sidecar) =>
        [(path, s => s.Write(weights)), (SidecarPath(path), s => s.Write(sidecar))];

    private static bool HoldsExactly(string path, byte[] expected) =>
        File.Exists(path) && new FileInfo(path).Length == expected.Length && File.ReadAllBytes(path).AsSpan().SequenceEqual(expected);

    /// <summary>Reads and checks a checkpoint's sidecar (not the weights).</summary>
    /// <param name="path">The weights path.</param>
    /// <returns>The sidecar.</returns>
    /// <exception cref="FileNotFoundException">The sidecar is missing.</exception>
    /// <exception cref="InvalidDataException">The sidecar is malformed.</exception>
    public static CheckpointInfo ReadInfo(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string sidecar = SidecarPath(path);
        if (!File.Exists(sidecar))
            throw new FileNotFoundException($"Checkpoint sidecar '{sidecar}' not found (a checkpoint is '{path}' plus '{sidecar}').", sidecar);
        using var stream = File.OpenRead(sidecar);
        return FromJson(ParseSidecar(stream, sidecar), sidecar);
    }

    private static JsonObject ParseSidecar(Stream content, string sidecar)
    {
        try
        {
            return JsonNode.Parse(content)?.AsObject()
                ?? throw new InvalidDataException($"Checkpoint sidecar '{sidecar}': expected a JSON object, found null.");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new InvalidDataException($"Checkpoint sidecar '{sidecar}' is not a JSON object: {e.Message}", e);
        }
    }

    /// <summary>Rebuilds the model a checkpoint describes (through <see cref="ModelArchitectures"/>) and loads its weights.</summary>
    /// <param name="path">The weights path.</param>
    /// <returns>The model (in eval mode) and the sidecar.</returns>
    /// <exception cref="InvalidDataException">
    /// Files are malformed, truncated or inconsistent, the architecture is unknown, or its options have unknown keys or
    /// invalid values (the message names the sidecar).
    /// </exception>
    public static (Module Model, CheckpointInfo Info) Load(string path)
    {
        var info = ReadInfo(path);
        if (info.Architecture is null || info.Options is null)
            throw new InvalidDataException(
                $"Checkpoint '{path}' holds a {info.ModelType} saved without an architecture description; " +
                "construct the model yourself and use Checkpoint.LoadInto.");
        Module model;
        try
        {
            model = ModelArchitectures.Create(new ModelDescription(info.Architecture, info.Options));
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"Checkpoint sidecar '{SidecarPath(path)}': {e.Message}", e);
        }
        try
        {
            LoadWeights(model, path, info, mismatchIsDataError: true);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.eval();
        return (model, info);
    }

    /// <summary>Rebuilds a checkpoint's model and checks it is a <typeparamref name="TModel"/>.</summary>
    /// <typeparam name="TModel">The expected model type.</typeparam>
    /// <param name="path">The weights path.</param>
    /// <returns>The model (in eval mode).</returns>
    /// <exception cref="InvalidDataException">As <see cref="Load(string)"/>, or the model is another type.</exception>
    public static TModel Load<TModel>(string path) where TModel : Module
    {
        var (model, info) = Load(path);
        if (model is TModel typed)
            return typed;
        model.Dispose();
        throw new InvalidDataException($"Checkpoint '{path}' holds architecture '{info.Architecture}' ({model.GetType().Name}), expected a {typeof(TModel).Name}.");
    }

    /// <summary>Loads a checkpoint's weights into an existing model after checking every name and shape.</summary>
    /// <param name="model">The target; must have exactly the saved state-dict layout.</param>
    /// <param name="path">The weights path.</param>
    /// <returns>The sidecar.</returns>
    /// <exception cref="ArgumentException">The model's parameters differ from the checkpoint's (all differences are listed).</exception>
    /// <exception cref="InvalidDataException">Files are malformed, truncated or inconsistent.</exception>
    public static CheckpointInfo LoadInto(Module model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        var info = ReadInfo(path);
        LoadWeights(model, path, info, mismatchIsDataError: false);
        return info;
    }

    /// <summary>
    /// Loads the weights of a checkpoint whose sidecar the caller has already read and checked (the trainer refuses a
    /// resume from the sidecar's metadata before it touches the model).
    /// </summary>
    internal static void LoadInto(Module model, string path, CheckpointInfo info) =>
        LoadWeights(model, path, info, mismatchIsDataError: false);

    /// <summary>The state-dict layout of a model (names, shapes, types), sorted by name.</summary>
    /// <param name="model">The model.</param>
    /// <returns>The entries.</returns>
    public static IReadOnlyList<StateEntry> StateOf(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.state_dict()
            .Select(kv => new StateEntry(kv.Key, kv.Value.shape.ToArray(), kv.Value.dtype.ToString()))
            .OrderBy(e => e.Name, StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>Lists how two state layouts differ; empty when they match.</summary>
    /// <param name="expected">The layout of the model being loaded into.</param>
    /// <param name="found">The layout stored in a checkpoint.</param>
    /// <returns>One line per difference.</returns>
    /// <exception cref="ArgumentException">A layout names a state twice (the duplicates are listed).</exception>
    public static IReadOnlyList<string> DescribeDifferences(IReadOnlyList<StateEntry> expected, IReadOnlyList<StateEntry> found)
    {
        var e = ByName(expected, nameof(expected));
        var f = ByName(found, nameof(found));
        var lines = new List<string>();
        foreach (var (name, entry) in e.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!f.TryGetValue(name, out var other))
                lines.Add($"missing in checkpoint: {entry}");
            else if (!entry.Shape.SequenceEqual(other.Shape) || entry.DType != other.DType)
                lines.Add($"{name}: model expects [{string.Join("×", entry.Shape)}] {entry.DType}, checkpoint has [{string.Join("×", other.Shape)}] {other.DType}");
        }
        foreach (var (name, entry) in f.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            if (!e.ContainsKey(name))
                lines.Add($"not in model: {entry}");
        return lines;
    }

    private static Dictionary<string, StateEntry> ByName(IReadOnlyList<StateEntry> entries, string parameter)
    {
        ArgumentNullException.ThrowIfNull(entries, parameter);
        var duplicates = DuplicateNames(entries);
        if (duplicates.Length > 0)
            throw new ArgumentException($"Expected each state name once in {parameter}, found {string.Join(", ", duplicates)}.", parameter);
        return entries.ToDictionary(x => x.Name, StringComparer.Ordinal);
    }

    /// <summary>Every state name that occurs more than once, as <c>'name' ×count</c>.</summary>
    private static string[] DuplicateNames(IEnumerable<StateEntry> entries) =>
        entries.GroupBy(x => x.Name, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => $"'{g.Key}' ×{g.Count()}").ToArray();

    /// <summary>The weights file's bytes, checked against the length and SHA-256 its sidecar records.</summary>
    private static byte[] ReadCheckedWeights(string path, CheckpointInfo info)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"Checkpoint weights '{path}' not found (its sidecar exists).", path);
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.LongLength != info.WeightsBytes)
            throw new InvalidDataException(
                $"Checkpoint weights '{path}' are truncated or replaced: expected {info.WeightsBytes} bytes, found {bytes.LongLength}.");
        string sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (sha != info.WeightsSha256)
            throw new InvalidDataException(
                $"Checkpoint weights '{path}' are corrupt: expected SHA-256 {info.WeightsSha256}, found {sha}.");
        return bytes;
    }

    private static void LoadWeights(Module model, string path, CheckpointInfo info, bool mismatchIsDataError)
    {
        var differences = DescribeDifferences(StateOf(model), info.State);
        if (differences.Count > 0)
        {
            string message = $"Checkpoint '{path}' ({info.Architecture ?? info.ModelType}) does not fit the {model.GetType().Name}: "
                + string.Join("; ", differences);
            if (mismatchIsDataError)
                throw new InvalidDataException(message);
            throw new ArgumentException(message, nameof(model));
        }
        byte[] bytes = ReadCheckedWeights(path, info);
        using var scope = torch.NewDisposeScope();
        using var reader = new BinaryReader(new MemoryStream(bytes, writable: false));
        try
        {
            model.load(reader, strict: true);
        }
        catch (Exception e) when (e is ArgumentException or EndOfStreamException or System.Runtime.InteropServices.ExternalException)
        {
            throw new InvalidDataException($"Checkpoint weights '{path}' could not be read: {e.Message}", e);
        }
    }

    private static JsonObject ToJson(CheckpointInfo info)
    {
        var state = new JsonArray();
        foreach (var entry in info.State)
            state.Add(new JsonObject
            {
                ["name"] = entry.Name,
                ["shape"] = new JsonArray(entry.Shape.Select(d => (JsonNode?)JsonValue.Create(d)).ToArray()),
                ["dtype"] = entry.DType,
            });
        return new JsonObject
        {
            ["format"] = "dls-checkpoint",
            ["format_version"] = info.FormatVersion,
            ["architecture"] = info.Architecture,
            ["options"] = info.Options?.DeepClone(),
            ["model_type"] = info.ModelType,
            ["saved_utc"] = info.SavedUtc.ToString("O"),
            ["weights_bytes"] = info.WeightsBytes,
            ["weights_sha256"] = info.WeightsSha256,
            ["state"] = state,
            ["metadata"] = info.Metadata.DeepClone(),
        };
    }

    private static CheckpointInfo FromJson(JsonObject json, string sidecar)
    {
        try
        {
            string format = json["format"]?.GetValue<string>() ?? "(missing)";
            if (format != "dls-checkpoint")
                throw new InvalidDataException($"Checkpoint sidecar '{sidecar}': expected format 'dls-checkpoint', found '{format}'.");
            int version = json["format_version"]?.GetValue<int>() ?? -1;
            if (version != FormatVersion)
                throw new InvalidDataException($"Checkpoint sidecar '{sidecar}': expected format_version {FormatVersion}, found {version}.");
            var state = new List<StateEntry>();
            foreach (var node in Required(json, "state", sidecar).AsArray())
            {
                var o = (node ?? throw new InvalidDataException($"Checkpoint sidecar '{sidecar}': expected state entries, found null.")).AsObject();
                state.Add(new StateEntry(
                    Required(o, "name", sidecar).GetValue<string>(),
                    Required(o, "shape", sidecar).AsArray().Select(d => (d ?? throw new InvalidDataException($"Checkpoint sidecar '{sidecar}': expected shape sizes, found null.")).GetValue<long>()).ToArray(),
                    Required(o, "dtype", sidecar).GetValue<string>()));
            }
            var duplicates = DuplicateNames(state);
            if (duplicates.Length > 0)
                throw new InvalidDataException(
                    $"Checkpoint sidecar '{sidecar}': expected each state name once, found {string.Join(", ", duplicates)}.");
            return new CheckpointInfo(
                version,
                json["architecture"]?.GetValue<string>(),
                json["options"]?.DeepClone().AsObject(),
                json["model_type"]?.GetValue<string>() ?? "",
                DateTimeOffset.Parse(Required(json, "saved_utc", sidecar).GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture),
                Required(json, "weights_bytes", sidecar).GetValue<long>(),
                Required(json, "weights_sha256", sidecar).GetValue<string>(),
                state,
                json["metadata"]?.DeepClone().AsObject() ?? new JsonObject());
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"Checkpoint sidecar '{sidecar}' is malformed: {e.Message}", e);
        }
    }

    private static JsonNode Required(JsonObject json, string key, string sidecar)
        => json[key] ?? throw new InvalidDataException($"Checkpoint sidecar '{sidecar}': expected a '{key}' field, found none.");
}
