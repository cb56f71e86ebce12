using System.Text.RegularExpressions;

namespace Dls.Compression.LowRank;

/// <summary>How <see cref="ModelCompressor"/> picks each layer's rank.</summary>
public enum RankSelection
{
    /// <summary>The same rank <see cref="CompressionPolicy.Rank"/> for every layer (capped at min(in, out)).</summary>
    FixedRank,

    /// <summary>Per layer, the smallest rank keeping at least <see cref="CompressionPolicy.Energy"/> of Σσ².</summary>
    EnergyThreshold,

    /// <summary>
    /// Ranks allocated across layers so the whole model has at most <see cref="CompressionPolicy.ParameterBudget"/>
    /// parameters, greedily by retained energy gained per parameter spent.
    /// </summary>
    ParameterBudget,
}

/// <summary>
/// Which <c>Linear</c> layers to factorize and at which rank. Immutable; create with <see cref="FixedRank"/>,
/// <see cref="EnergyThreshold"/> or <see cref="ParameterBudgetOf"/> and refine with <c>with { … }</c>.
/// </summary>
public sealed record CompressionPolicy
{
    /// <summary>The rank-selection rule.</summary>
    public RankSelection Selection { get; init; }

    /// <summary>The rank for <see cref="RankSelection.FixedRank"/>.</summary>
    public int Rank { get; init; }

    /// <summary>The energy fraction in (0, 1] for <see cref="RankSelection.EnergyThreshold"/>.</summary>
    public double Energy { get; init; }

    /// <summary>The whole-model parameter budget for <see cref="RankSelection.ParameterBudget"/>.</summary>
    public long ParameterBudget { get; init; }

    /// <summary>
    /// Factorize even layers where it saves nothing (rank·(in+out) ≥ in·out). Off by default: such layers stay dense
    /// and the report says why.
    /// </summary>
    public bool ForceFactorization { get; init; }

    /// <summary>
    /// Layer-name patterns (<c>*</c> matches any run of characters, e.g. <c>encoder.*</c>); empty includes every layer.
    /// <see cref="ModelCompressor.Compress"/> rejects a pattern that matches no Linear layer of the model.
    /// </summary>
    public IReadOnlyList<string> Include { get; init; } = [];

    /// <summary>
    /// Layer-name patterns to leave dense, applied after <see cref="Include"/>. <see cref="ModelCompressor.Compress"/> rejects a
    /// pattern that matches no Linear layer of the model (a typo would otherwise factorize the layer meant to stay dense).
    /// </summary>
    public IReadOnlyList<string> Exclude { get; init; } = [];

    /// <summary>A fixed-rank policy.</summary>
    /// <param name="rank">The rank, ≥ 1.</param>
    /// <returns>The policy.</returns>
    public static CompressionPolicy FixedRank(int rank) => new() { Selection = RankSelection.FixedRank, Rank = rank };

    /// <summary>An energy-threshold policy.</summary>
    /// <param name="energy">The fraction of Σσ² to keep per layer, in (0, 1].</param>
    /// <returns>The policy.</returns>
    public static CompressionPolicy EnergyThreshold(double energy) => new() { Selection = RankSelection.EnergyThreshold, Energy = energy };

    /// <summary>A whole-model parameter-budget policy.</summary>
    /// <param name="parameters">The maximum parameter count of the compressed model.</param>
    /// <returns>The policy.</returns>
    public static CompressionPolicy ParameterBudgetOf(long parameters) => new() { Selection = RankSelection.ParameterBudget, ParameterBudget = parameters };

    /// <summary>Every problem with this policy, one message per problem naming the field; empty when valid.</summary>
    /// <returns>The problems.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        switch (Selection)
        {
            case RankSelection.FixedRank when Rank < 1:
                errors.Add($"{nameof(Rank)} must be at least 1 for a fixed-rank policy, got {Rank}.");
                break;
            case RankSelection.EnergyThreshold when !(Energy > 0 && Energy <= 1):
                errors.Add($"{nameof(Energy)} must be in (0, 1] for an energy-threshold policy, got {Energy}.");
                break;
            case RankSelection.ParameterBudget when ParameterBudget < 1:
                errors.Add($"{nameof(ParameterBudget)} must be positive for a budget policy, got {ParameterBudget}.");
                break;
            case RankSelection.FixedRank or RankSelection.EnergyThreshold or RankSelection.ParameterBudget:
                break;
            default:
                errors.Add($"{nameof(Selection)} must be FixedRank, EnergyThreshold or ParameterBudget, got {(int)Selection}.");
                break;
        }
        if (Include is null) errors.Add($"{nameof(Include)} must not be null.");
        if (Exclude is null) errors.Add($"{nameof(Exclude)} must not be null.");
        foreach (var (list, patterns) in new[] { (nameof(Include), Include), (nameof(Exclude), Exclude) })
        {
            for (int i = 0; i < (patterns?.Count ?? 0); i++)
            {
                if (string.IsNullOrWhiteSpace(patterns![i]))
                    errors.Add($"{list}[{i}] must be a non-empty pattern, got {(patterns[i] is null ? "null" : $"'{patterns[i]}'")}.");
            }
        }
        return errors;
    }

    /// <summary>Whether the filters select the layer named <paramref name="name"/>.</summary>
    /// <param name="name">A dotted module name, e.g. <c>layers.3</c>.</param>
    /// <returns>True when included and not excluded.</returns>
    /// <exception cref="InvalidOperationException"><see cref="Include"/>, <see cref="Exclude"/> or one of their patterns is null (see <see cref="Validate"/>).</exception>
    public bool Selects(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return (CheckedPatterns(Include, nameof(Include)).Count == 0 || Include.Any(p => Matches(p, name)))
            && !CheckedPatterns(Exclude, nameof(Exclude)).Any(p => Matches(p, name));
    }

    /// <summary>
    /// The list itself when it and its patterns are non-null. Selects may be called on a policy nobody validated
    /// (<see cref="ModelCompressor.Compress"/> validates first), and a null there would otherwise surface as a
    /// NullReferenceException that names nothing.
    /// </summary>
    private static IReadOnlyList<string> CheckedPatterns(IReadOnlyList<string>? patterns, string list)
    {
        if (patterns is null)
            throw new InvalidOperationException($"{nameof(CompressionPolicy)}.{list} is null; set it to [] for no patterns.");
        for (int i = 0; i < patterns.Count; i++)
        {
            if (patterns[i] is null)
                throw new InvalidOperationException($"{nameof(CompressionPolicy)}.{list}[{i}] is null; expected a name pattern.");
        }
        return patterns;
    }

    internal static bool Matches(string pattern, string name)
        => Regex.IsMatch(name, "^" + string.Join(".*", pattern.Split('*').Select(Regex.Escape)) + "$", RegexOptions.CultureInvariant);
}
