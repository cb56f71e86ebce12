using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch.nn;

namespace Dls.Models.Checkpoints;

/// <summary>
/// The process-wide registry of model architectures: name → factory from constructor options (JSON). The MNIST models
/// are registered by default; other areas register theirs (<see cref="Register{TOptions}"/>, usually from their
/// <c>AddDls…</c> DI extension or a static initializer) so <see cref="Checkpoint.Load(string)"/> can rebuild any of them.
/// </summary>
public static class ModelArchitectures
{
    private static readonly ConcurrentDictionary<string, Registration> Registry = new(StringComparer.Ordinal);

    static ModelArchitectures()
    {
        Mnist.MnistArchitectures.RegisterBuiltIns();
    }

    /// <summary>The JSON settings used for architecture options: property names in snake_case, enums as strings.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>
    /// As <see cref="JsonOptions"/>, but a key that maps to no property (at any depth) is an error, and so is a property
    /// given twice (keys match case-insensitively: "hidden_size" and "Hidden_Size" would otherwise leave the last one).
    /// </summary>
    private static readonly JsonSerializerOptions StrictJsonOptions = new(JsonOptions)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        AllowDuplicateProperties = false,
        // Set explicitly: GetTypeInfo (used to list the expected keys) needs a resolver before any serialization has run.
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
    };

    /// <summary>The registered architecture names, sorted.</summary>
    public static IReadOnlyList<string> Names => Registry.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>
    /// Registers <paramref name="name"/>; registering the same name with the same options type again is a no-op that keeps
    /// the first factory. (Areas register from several places with lambdas that build the same model; such delegates are
    /// distinct objects with distinct methods, so "the same factory" cannot be told from "another factory" here.)
    /// </summary>
    /// <typeparam name="TOptions">The constructor options type (serialized with <see cref="JsonOptions"/>).</typeparam>
    /// <param name="name">The architecture name stored in checkpoints.</param>
    /// <param name="factory">Builds an untrained model from options.</param>
    /// <exception cref="InvalidOperationException">The name is registered with a different options type.</exception>
    public static void Register<TOptions>(string name, Func<TOptions, Module> factory)
        where TOptions : class
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        var registration = new Registration(typeof(TOptions), json =>
        {
            // A misspelled key would otherwise be dropped and its option left at the default: a different model.
            var expected = StrictJsonOptions.GetTypeInfo(typeof(TOptions)).Properties.Select(p => p.Name).ToArray();
            var unknown = json.Select(p => p.Key).Where(k => !expected.Contains(k, StringComparer.OrdinalIgnoreCase)).ToArray();
            if (unknown.Length > 0)
                throw new InvalidDataException(
                    $"The options of architecture '{name}' have unknown key(s) [{string.Join(", ", unknown)}]; expected keys of {typeof(TOptions).Name}: [{string.Join(", ", expected)}].");
            TOptions options;
            try
            {
                // Strict options also reject unknown keys of nested objects (e.g. the shape of a low-rank MLP).
                options = json.Deserialize<TOptions>(StrictJsonOptions)
                    ?? throw new InvalidDataException($"The options of architecture '{name}' are null.");
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"The options of architecture '{name}' do not deserialize as {typeof(TOptions).Name}: {e.Message}", e);
            }
            try
            {
                return factory(options);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"The options of architecture '{name}' are invalid: {e.Message}", e);
            }
        });
        var existing = Registry.GetOrAdd(name, registration);
        if (!ReferenceEquals(existing, registration) && existing.OptionsType != typeof(TOptions))
            throw new InvalidOperationException(
                $"Architecture '{name}' is already registered with options {existing.OptionsType.FullName}, not {typeof(TOptions).FullName}.");
    }

    /// <summary>Whether <paramref name="name"/> is registered.</summary>
    /// <param name="name">The architecture name.</param>
    /// <returns>True when registered.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    public static bool IsRegistered(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Registry.ContainsKey(name);
    }

    /// <summary>Builds an untrained model of a registered architecture.</summary>
    /// <param name="description">The architecture name and options.</param>
    /// <returns>The new model.</returns>
    /// <exception cref="ArgumentException">The description's architecture name or options are null.</exception>
    /// <exception cref="InvalidDataException">
    /// The name is not registered, the options have a key the options type lacks (all such keys and the expected ones are
    /// named), do not deserialize, or are rejected by the model's constructor.
    /// </exception>
    public static Module Create(ModelDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        // The record's properties are non-nullable but not enforced; unchecked, a null reaches the dictionary or LINQ and
        // fails there naming their parameters ('key', 'source') instead of this one.
        if (description.Architecture is null)
            throw new ArgumentException($"Expected an architecture name in {nameof(description)}.{nameof(ModelDescription.Architecture)}, found null.", nameof(description));
        if (description.Options is null)
            throw new ArgumentException(
                $"Expected the options of architecture '{description.Architecture}' in {nameof(description)}.{nameof(ModelDescription.Options)}, found null.", nameof(description));
        if (!Registry.TryGetValue(description.Architecture, out var registration))
            throw new InvalidDataException(
                $"Unknown architecture '{description.Architecture}'; registered: [{string.Join(", ", Names)}]. " +
                "Register it with ModelArchitectures.Register (or the area's AddDls… extension) before loading.");
        return registration.Factory(description.Options);
    }

    /// <summary>Serializes options for a <see cref="ModelDescription"/>.</summary>
    /// <typeparam name="TOptions">The options type.</typeparam>
    /// <param name="options">The options.</param>
    /// <returns>The options as a JSON object.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">The options serialize to something other than a JSON object (a custom converter).</exception>
    public static JsonObject ToJson<TOptions>(TOptions options) where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(options);
        JsonNode? node = JsonSerializer.SerializeToNode(options, JsonOptions);
        return node as JsonObject
           ?? throw new ArgumentException(
               $"Expected {typeof(TOptions).Name} to serialize to a JSON object; found {(node is null ? "null" : $"a JSON {node.GetValueKind().ToString().ToLowerInvariant()}")}.", nameof(options));
    }

    private sealed record Registration(Type OptionsType, Func<JsonObject, Module> Factory);
}
