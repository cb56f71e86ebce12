using Dls.Compression.Counting;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dls.Compression.LowRank;

/// <summary>
/// Replaces the <c>Linear</c> layers of any module tree (nested user modules, <c>Sequential</c>, <c>ModuleList</c>) by
/// truncated-SVD <see cref="LowRankLinear"/> layers according to a <see cref="CompressionPolicy"/>.
/// </summary>
/// <remarks>
/// A user module can be compressed when it holds each <c>Linear</c> in a field (or list) typed so that a
/// <see cref="LowRankLinear"/> fits, e.g. <c>Module&lt;Tensor, Tensor&gt;</c>; otherwise <see cref="NotSupportedException"/>
/// names the field. Replaced layers are disposed.
/// </remarks>
public static class ModelCompressor
{
    /// <summary>Compresses <paramref name="model"/> in place.</summary>
    /// <param name="model">The model; its selected Linear layers are replaced.</param>
    /// <param name="policy">Ranks, filters and the keep-dense rule.</param>
    /// <param name="decompositions">
    /// Decompositions of (some of) the layers' weights keyed by dotted layer name, computed earlier with
    /// <see cref="WeightSvd.Of(Tensor, string?)"/> and still owned by the caller — to compress copies of one model at several ranks
    /// with one SVD per layer. Missing layers are decomposed here.
    /// </param>
    /// <returns>What was done to each layer, with totals.</returns>
    /// <exception cref="ArgumentException">
    /// The policy is invalid, an <see cref="CompressionPolicy.Include"/> or <see cref="CompressionPolicy.Exclude"/> pattern
    /// matches no Linear layer (the patterns and the layer names are listed), or a budget is below the smallest reachable size.
    /// </exception>
    /// <exception cref="NotSupportedException">
    /// A layer to factorize is held in a field or list that cannot hold a <see cref="LowRankLinear"/>; checked for every
    /// layer before any is replaced, so the model is left unchanged.
    /// </exception>
    public static CompressionReport Compress(Module model, CompressionPolicy policy, IReadOnlyDictionary<string, WeightSvd>? decompositions = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(policy);
        var errors = policy.Validate();
        if (errors.Count > 0)
            throw new ArgumentException("Invalid compression policy: " + string.Join(" ", errors), nameof(policy));

        long paramsBefore = ModelCounter.CountParameters(model).Total;
        var linears = FindLinears(model);
        CheckPatternsMatch(policy, linears);
        var selected = linears.Where(l => policy.Selects(l.Name)).ToList();
        var svds = new Dictionary<string, WeightSvd>(StringComparer.Ordinal);
        var owned = new List<WeightSvd>();
        try
        {
            foreach (var l in selected)
            {
                long m = l.Layer.out_features, n = l.Layer.in_features;
                // A fixed rank that saves nothing keeps the layer dense: no decomposition needed.
                if (policy.Selection == RankSelection.FixedRank && !policy.ForceFactorization
                    && !Factorization.SavesParameters(n, m, Math.Min(policy.Rank, Math.Min(m, n))))
                    continue;
                if (decompositions is not null && decompositions.TryGetValue(l.Name, out var given)
                    && given.OutFeatures == l.Layer.out_features && given.InFeatures == l.Layer.in_features)
                {
                    svds[l.Name] = given;
                }
                else
                {
                    var svd = WeightSvd.Of(l.Layer.weight!, l.Name);
                    owned.Add(svd);
                    svds[l.Name] = svd;
                }
            }

            var ranks = policy.Selection switch
            {
                RankSelection.FixedRank => selected.ToDictionary(l => l.Name, l => (int)Math.Min(policy.Rank, Math.Min(l.Layer.in_features, l.Layer.out_features))),
                RankSelection.EnergyThreshold => selected.ToDictionary(l => l.Name, l => svds[l.Name].RankForEnergy(policy.Energy)),
                _ => AllocateBudget(selected, svds, policy, paramsBefore),
            };

            // Every replacement is checked before the first one is made, so a layer that cannot be swapped leaves the model as it was.
            foreach (var l in linears)
            {
                if (ranks.TryGetValue(l.Name, out int r) && Factorizes(policy, l.Layer, r))
                    ModuleReplacer.CheckReplaceable(l.Parent, l.ChildName, l.Layer, typeof(LowRankLinear));
            }

            var rows = new List<LayerCompression>();
            foreach (var l in linears)
            {
                long m = l.Layer.out_features, n = l.Layer.in_features, biasCount = l.Layer.bias is null ? 0 : m;
                long denseParams = m * n + biasCount;
                if (!ranks.ContainsKey(l.Name))
                {
                    rows.Add(new LayerCompression(l.Name, n, m, null, LayerDecision.Excluded, "excluded by name filters",
                        denseParams, denseParams, m * n, m * n, double.NaN, double.NaN));
                    continue;
                }
                int rank = ranks[l.Name];
                if (!Factorizes(policy, l.Layer, rank))
                {
                    rows.Add(new LayerCompression(l.Name, n, m, null, LayerDecision.KeptDenseNoSaving,
                        $"kept dense: rank {rank} needs {rank}x({n}+{m}) = {rank * (n + m):N0} >= {m}x{n} = {m * n:N0} weights",
                        denseParams, denseParams, m * n, m * n, 1, 0));
                    continue;
                }
                var svd = svds[l.Name];
                var replacement = Factorization.Factorize(l.Layer, svd, rank);
                ModuleReplacer.Replace(l.Parent, l.ChildName, l.Layer, replacement);
                l.Layer.Dispose();
                rows.Add(new LayerCompression(l.Name, n, m, rank, LayerDecision.Factorized, "factorized",
                    denseParams, replacement.ParameterCount, m * n, rank * (n + m), svd.RetainedEnergy(rank), svd.RelativeError(rank)));
            }
            return new CompressionReport(policy, rows, paramsBefore, ModelCounter.CountParameters(model).Total);
        }
        finally
        {
            foreach (var svd in owned)
                svd.Dispose();
        }
    }

    /// <summary>
    /// Throws when a name pattern matches no Linear layer: a typo in <see cref="CompressionPolicy.Include"/> would compress
    /// nothing, and one in <see cref="CompressionPolicy.Exclude"/> would factorize the layer meant to stay dense.
    /// </summary>
    private static void CheckPatternsMatch(CompressionPolicy policy, List<Found> linears)
    {
        var unmatched = policy.Include.Select(p => (Option: nameof(CompressionPolicy.Include), Pattern: p))
            .Concat(policy.Exclude.Select(p => (Option: nameof(CompressionPolicy.Exclude), Pattern: p)))
            .Where(x => !linears.Any(l => CompressionPolicy.Matches(x.Pattern, l.Name)))
            .Select(x => $"{x.Option} pattern '{x.Pattern}'")
            .ToList();
        if (unmatched.Count > 0)
            throw new ArgumentException(
                $"{string.Join(", ", unmatched)} match{(unmatched.Count == 1 ? "es" : "")} no Linear layer; the Linear layers are " +
                $"[{(linears.Count == 0 ? "none" : string.Join(", ", linears.Select(l => l.Name)))}].",
                nameof(policy));
    }

    /// <summary>Whether a selected layer is factorized at <paramref name="rank"/>: forced, or when that saves parameters.</summary>
    private static bool Factorizes(CompressionPolicy policy, Linear layer, int rank) =>
        policy.ForceFactorization || Factorization.SavesParameters(layer.in_features, layer.out_features, rank);

    private sealed record Found(string Name, Module Parent, string ChildName, Linear Layer);

    private static List<Found> FindLinears(Module model)
    {
        var found = new List<Found>();
        Walk(model, "", found);
        return found;
    }

    private static void Walk(Module parent, string prefix, List<Found> found)
    {
        foreach (var (childName, child) in parent.named_children().ToList())
        {
            string name = prefix.Length == 0 ? childName : prefix + "." + childName;
            if (child is Linear linear)
                found.Add(new Found(name, parent, childName, linear));
            else
                Walk(child, name, found);
        }
    }

    /// <summary>
    /// Greedy allocation: every selected layer starts at rank 1 (which <see cref="Compress"/> keeps dense where rank 1
    /// saves nothing and factorization is not forced); then, while the budget allows, the layer whose next singular value
    /// adds the most relative energy (σ²_{r+1}/Σσ²) per added parameter (in+out) gets one more rank. Ranks stop below the
    /// break-even rank (where factorizing stops saving) unless factorization is forced.
    /// </summary>
    private static Dictionary<string, int> AllocateBudget(List<Found> selected, Dictionary<string, WeightSvd> svds, CompressionPolicy policy, long paramsBefore)
    {
        long fixedParams = paramsBefore;
        long used = 0;
        var ranks = new Dictionary<string, int>(StringComparer.Ordinal);
        var caps = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var l in selected)
        {
            long m = l.Layer.out_features, n = l.Layer.in_features, biasCount = l.Layer.bias is null ? 0 : m;
            fixedParams -= m * n + biasCount;
            // What the layer costs at rank 1 under Compress's own rule (Factorizes): factorized, or kept dense when rank 1
            // saves nothing — then the dense layer, not (m + n) weights, is the smallest it gets.
            used += (Factorizes(policy, l.Layer, 1) ? m + n : m * n) + biasCount;
            ranks[l.Name] = 1;
            int cap = svds[l.Name].MaxRank;
            if (!policy.ForceFactorization)
                while (cap > 1 && !Factorization.SavesParameters(n, m, cap)) cap--;
            caps[l.Name] = cap;
        }
        long minimum = fixedParams + used;
        if (minimum > policy.ParameterBudget)
            throw new ArgumentException(
                $"A budget of {policy.ParameterBudget:N0} parameters is unreachable: the smallest model (every selected layer at rank 1, or dense where rank 1 saves nothing; other layers unchanged) has {minimum:N0}.",
                nameof(policy));

        var queue = new PriorityQueue<Found, double>();
        double Gain(Found l) => svds[l.Name].SingularValues[ranks[l.Name]] is var s && svds[l.Name].TotalEnergy > 0
            ? s * s / svds[l.Name].TotalEnergy / (l.Layer.in_features + l.Layer.out_features)
            : 0;
        foreach (var l in selected.Where(l => ranks[l.Name] < caps[l.Name]))
            queue.Enqueue(l, -Gain(l));
        long total = minimum;
        while (queue.TryDequeue(out var layer, out _))
        {
            long cost = layer.Layer.in_features + layer.Layer.out_features;
            if (total + cost > policy.ParameterBudget)
                continue; // a thinner layer may still fit
            total += cost;
            ranks[layer.Name]++;
            if (ranks[layer.Name] < caps[layer.Name])
                queue.Enqueue(layer, -Gain(layer));
        }
        return ranks;
    }
}
