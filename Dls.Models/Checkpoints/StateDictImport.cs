using Dls.Compression.Modules;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dls.Models.Checkpoints;

/// <summary>How the names of a weights file map onto a module's state dictionary (<see cref="StateDictImport.LoadInto"/>).</summary>
public sealed record StateDictImportOptions
{
    /// <summary>
    /// A prefix every name to be used starts with, removed before <see cref="Rename"/>: <c>"model_state_dict."</c> for a
    /// checkpoint dictionary saved with <c>torch.save({"model_state_dict": model.state_dict(), …})</c>, <c>"module."</c>
    /// for a model saved from <c>nn.DataParallel</c>. Names without it are not used. Null or empty: every name is used.
    /// </summary>
    public string? Prefix { get; init; }

    /// <summary>
    /// Maps a file's name (after <see cref="Prefix"/>) to the module's state-dict name, or to null to leave that tensor
    /// out on purpose (an optimizer's state, a layer the Dls model has no counterpart for). Null: names are used as they
    /// are. Two names may not map to the same module entry.
    /// </summary>
    public Func<string, string?>? Rename { get; init; }

    /// <summary>
    /// Module entries the file is not expected to fill: they keep their current values (for instance an input
    /// normalization the PyTorch model did not have, left at identity) — unless a tensor of the file is mapped onto one,
    /// which then fills it as any other. Every other entry must be filled when <see cref="Strict"/> is set.
    /// </summary>
    public IReadOnlyCollection<string> KeepCurrent { get; init; } = [];

    /// <summary>
    /// True (the default): every module entry not in <see cref="KeepCurrent"/> must be filled, and every tensor of the
    /// file that is used (after <see cref="Prefix"/> and <see cref="Rename"/>) must name a module entry; otherwise nothing
    /// is loaded. False: fill what matches and report the rest in the result.
    /// </summary>
    public bool Strict { get; init; } = true;
}

/// <summary>What <see cref="StateDictImport.LoadInto"/> did.</summary>
/// <param name="Loaded">Module entries filled from the file, with the file name each came from, sorted by module name.</param>
/// <param name="Unused">Names of the file that filled nothing: outside <see cref="StateDictImportOptions.Prefix"/>, left
/// out by <see cref="StateDictImportOptions.Rename"/>, or naming no module entry (the last only when not strict). Sorted.</param>
/// <param name="Missing">Module entries the file did not fill and that kept their values (those of
/// <see cref="StateDictImportOptions.KeepCurrent"/>, and any other when not strict). Sorted.</param>
public sealed record StateDictImportResult(
    IReadOnlyList<KeyValuePair<string, string>> Loaded,
    IReadOnlyList<string> Unused,
    IReadOnlyList<string> Missing);

/// <summary>
/// Loads tensors read from another framework's weights file (<see cref="StateDictFile"/>) into a Dls module by
/// state-dict name: every name, shape and element type is checked before any value is copied, so a refused file leaves
/// the module as it was. Floating-point tensors are converted to the module's floating type (a float16 or float64 file
/// into float32 weights); integer and boolean entries must match exactly.
/// </summary>
/// <remarks>
/// PyTorch's <c>nn.Linear</c>, <c>nn.GRU</c> and <c>nn.LSTM</c> store their weights as TorchSharp's do (a Linear weight is
/// out × in; a GRU's <c>weight_ih_l0</c> stacks the r, z, n gates), so a layer's tensors load as they are; only the names
/// around them differ between the two models. Write the map against <see cref="StateDictFile.Describe"/> and the module's
/// <c>state_dict()</c>.
/// </remarks>
public static class StateDictImport
{
    private const int NamesInMessage = 8;

    /// <summary>Copies the file's tensors into <paramref name="module"/>'s parameters and buffers.</summary>
    /// <param name="module">The model to fill (its current values stay where nothing is loaded).</param>
    /// <param name="file">The tensors read from the file.</param>
    /// <param name="options">Name mapping and strictness; null: names as they are, strict.</param>
    /// <returns>What was loaded, left out and kept.</returns>
    /// <exception cref="ArgumentException">Two names of the file map to one module entry, or
    /// <see cref="StateDictImportOptions.KeepCurrent"/> names an entry the module does not have.</exception>
    /// <exception cref="InvalidDataException">The file does not fit the module: an entry missing or a tensor unused (strict),
    /// another shape, an element type that cannot be converted, a NaN or ±∞ value, or a value that becomes ±∞ in the module's
    /// floating type (1e300 into float32) (the message names the file, the entry, and what was expected and found). Nothing
    /// was copied.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="file"/> was disposed.</exception>
    public static StateDictImportResult LoadInto(Module module, StateDictFile file, StateDictImportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(file);
        options ??= new StateDictImportOptions();
        IReadOnlyDictionary<string, Tensor> source = file.Tensors;
        Dictionary<string, Tensor> target = module.state_dict();

        foreach (string keep in options.KeepCurrent)
        {
            if (!target.ContainsKey(keep))
            {
                throw new ArgumentException(
                    $"KeepCurrent names '{keep}', which {Describe(module)} does not have; its entries are {List(target.Keys)}.", nameof(options));
            }
        }

        // 1. Names: file name → module name, and what is left over on either side.
        var plan = new SortedDictionary<string, string>(StringComparer.Ordinal);   // module name → file name
        var unused = new List<string>();
        var unmatched = new List<string>();          // file names, for the result
        var unmatchedShown = new List<string>();     // the same with what they were mapped to, for messages
        foreach (string name in source.Keys.Order(StringComparer.Ordinal))
        {
            string? mapped = MapName(name, options);
            if (mapped is null)
            {
                unused.Add(name);
            }
            else if (!target.ContainsKey(mapped))
            {
                unmatched.Add(name);
                unmatchedShown.Add(mapped == name ? name : $"{name} (as {mapped})");
            }
            else if (!plan.TryAdd(mapped, name))
            {
                throw new ArgumentException(
                    $"Expected each module entry to come from one tensor of {file.Source}; '{mapped}' would come from both '{plan[mapped]}' and '{name}'.",
                    nameof(options));
            }
        }

        var keepSet = options.KeepCurrent.ToHashSet(StringComparer.Ordinal);
        var missing = target.Keys.Where(k => !plan.ContainsKey(k) && !keepSet.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (options.Strict && (missing.Count > 0 || unmatched.Count > 0))
        {
            var parts = new List<string>();
            if (missing.Count > 0)
            {
                parts.Add($"{Describe(module)} entries the file does not fill: {List(missing)}");
            }

            if (unmatched.Count > 0)
            {
                parts.Add($"tensors of the file that name no module entry: {List(unmatchedShown)}");
            }

            throw new InvalidDataException(
                $"Weights file {file.Source} does not match the module: {string.Join("; ", parts)}. The file holds {List(source.Keys.Order(StringComparer.Ordinal))}. "
                + "Map the names with StateDictImportOptions.Prefix or Rename, list entries to keep in KeepCurrent, or set Strict = false.");
        }

        // 2. Shapes, element types and values, all checked before anything is copied.
        foreach ((string to, string from) in plan)
        {
            Check(file.Source, from, source[from], to, target[to]);
        }

        // 3. Copy.
        using (no_grad())
        {
            foreach ((string to, string from) in plan)
            {
                using var scope = NewDisposeScope();
                Tensor value = source[from];
                Tensor destination = target[to];
                destination.copy_(value.dtype == destination.dtype ? value : value.to(destination.dtype));
            }
        }

        unused.AddRange(unmatched);
        unused.Sort(StringComparer.Ordinal);
        var kept = target.Keys.Where(k => !plan.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        return new StateDictImportResult(plan.Select(p => new KeyValuePair<string, string>(p.Key, p.Value)).ToList(), unused, kept);
    }

    private static string? MapName(string name, StateDictImportOptions options)
    {
        string rest = name;
        if (!string.IsNullOrEmpty(options.Prefix))
        {
            if (!name.StartsWith(options.Prefix, StringComparison.Ordinal))
            {
                return null;
            }

            rest = name[options.Prefix.Length..];
        }

        return options.Rename is null ? rest : options.Rename(rest);
    }

    private static void Check(string sourceFile, string from, Tensor value, string to, Tensor destination)
    {
        string entry = from == to ? $"'{to}'" : $"'{to}' (from '{from}')";
        if (!value.shape.SequenceEqual(destination.shape))
        {
            string hint = value.dim() == 2 && destination.dim() == 2 && value.shape[0] == destination.shape[1] && value.shape[1] == destination.shape[0]
                ? " The file's tensor is the transpose: nn.Linear stores out × in in PyTorch and TorchSharp alike, so it is likely another layer's or a hand-made matrix."
                : string.Empty;
            throw new InvalidDataException(
                $"Weights file {sourceFile}: {entry} expected shape [{string.Join("×", destination.shape)}], found [{string.Join("×", value.shape)}].{hint}");
        }

        bool floatingTarget = destination.is_floating_point();
        bool floatingValue = value.is_floating_point();
        if (floatingTarget != floatingValue || (!floatingTarget && value.dtype != destination.dtype))
        {
            throw new InvalidDataException(
                $"Weights file {sourceFile}: {entry} expected {destination.dtype}{(floatingTarget ? " or another floating-point type" : string.Empty)}, found {value.dtype}.");
        }

        if (floatingValue)
        {
            try
            {
                TensorChecks.ThrowIfNonFinite(value, from);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"Weights file {sourceFile}: {entry}: {e.Message.Replace($" (Parameter '{from}')", string.Empty, StringComparison.Ordinal)}", e);
            }

            // A finite value can still overflow the module's type (1e300 as float32, 1e5 as float16): checked as it will be copied.
            if (value.dtype != destination.dtype)
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                Tensor converted = value.to(destination.dtype);
                if (!converted.isfinite().all().item<bool>())
                {
                    long at = converted.isfinite().logical_not().flatten().to(ScalarType.Byte).argmax().item<long>();
                    double original = value.flatten()[at].to(ScalarType.Float64).item<double>();
                    throw new InvalidDataException(
                        $"Weights file {sourceFile}: {entry} expected values that {destination.dtype} can hold, found "
                        + $"{original.ToString(System.Globalization.CultureInfo.InvariantCulture)} ({value.dtype}) at flat index {at}, which becomes ∞.");
                }
            }
        }
    }

    private static string Describe(Module module) => $"the {module.GetType().Name}";

    private static string List(IEnumerable<string> names)
    {
        var all = names.ToList();
        string shown = string.Join(", ", all.Take(NamesInMessage).Select(n => $"'{n}'"));
        return all.Count > NamesInMessage ? $"[{shown}, … {all.Count - NamesInMessage} more]" : $"[{shown}]";
    }
}
