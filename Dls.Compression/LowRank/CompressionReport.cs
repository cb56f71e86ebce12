using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Dls.Compression.LowRank;

/// <summary>What happened to one <c>Linear</c> layer.</summary>
public enum LayerDecision
{
    /// <summary>Replaced by a <see cref="LowRankLinear"/>.</summary>
    Factorized,

    /// <summary>Kept dense because factorizing at the chosen rank would not save parameters.</summary>
    KeptDenseNoSaving,

    /// <summary>Kept dense because the name filters exclude it.</summary>
    Excluded,
}

/// <summary>One layer of a <see cref="CompressionReport"/>.</summary>
/// <param name="Name">Dotted module name.</param>
/// <param name="InFeatures">Input features.</param>
/// <param name="OutFeatures">Output features.</param>
/// <param name="Rank">The rank used (null when the layer stayed dense).</param>
/// <param name="Decision">What was done.</param>
/// <param name="Reason">Why, in words.</param>
/// <param name="ParametersBefore">Weights + bias before.</param>
/// <param name="ParametersAfter">Weights + bias after.</param>
/// <param name="MacsBefore">MACs per input row before.</param>
/// <param name="MacsAfter">MACs per input row after.</param>
/// <param name="RetainedEnergy">Fraction of Σσ² kept (1 when dense; NaN when excluded, as no SVD was computed).</param>
/// <param name="RelativeError">‖W − W_r‖_F / ‖W‖_F (0 when dense; NaN when excluded).</param>
public sealed record LayerCompression(
    string Name,
    long InFeatures,
    long OutFeatures,
    int? Rank,
    LayerDecision Decision,
    string Reason,
    long ParametersBefore,
    long ParametersAfter,
    long MacsBefore,
    long MacsAfter,
    double RetainedEnergy,
    double RelativeError);

/// <summary>The outcome of <see cref="ModelCompressor.Compress"/>: per-layer details and model totals.</summary>
/// <param name="Policy">The policy applied.</param>
/// <param name="Layers">Every <c>Linear</c> layer found, in model order.</param>
/// <param name="ModelParametersBefore">Parameters of the whole model before.</param>
/// <param name="ModelParametersAfter">Parameters of the whole model after.</param>
public sealed record CompressionReport(
    CompressionPolicy Policy,
    IReadOnlyList<LayerCompression> Layers,
    long ModelParametersBefore,
    long ModelParametersAfter)
{
    /// <summary>ModelParametersBefore / ModelParametersAfter.</summary>
    public double CompressionRatio => ModelParametersAfter == 0 ? double.PositiveInfinity : (double)ModelParametersBefore / ModelParametersAfter;

    /// <summary>Linear-layer MACs per input row before.</summary>
    public long MacsBefore => Layers.Sum(l => l.MacsBefore);

    /// <summary>Linear-layer MACs per input row after.</summary>
    public long MacsAfter => Layers.Sum(l => l.MacsAfter);

    /// <summary>A fixed-width text table with one row per layer and a totals row.</summary>
    /// <returns>The table.</returns>
    public string ToTable()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(string.Format(c, "{0,-24} {1,11} {2,6} {3,11} {4,11} {5,11} {6,11} {7,8} {8,8}  {9}",
            "layer", "shape", "rank", "params", "params'", "MACs", "MACs'", "energy", "rel.err", "decision"));
        foreach (var l in Layers)
            sb.AppendLine(string.Format(c, "{0,-24} {1,11} {2,6} {3,11:N0} {4,11:N0} {5,11:N0} {6,11:N0} {7,8:F4} {8,8:F4}  {9}",
                l.Name, $"{l.OutFeatures}x{l.InFeatures}", l.Rank?.ToString(c) ?? "dense", l.ParametersBefore, l.ParametersAfter,
                l.MacsBefore, l.MacsAfter, l.RetainedEnergy, l.RelativeError, l.Reason));
        sb.AppendLine(string.Format(c, "{0,-24} {1,11} {2,6} {3,11:N0} {4,11:N0} {5,11:N0} {6,11:N0}",
            "model total", "", "", ModelParametersBefore, ModelParametersAfter, MacsBefore, MacsAfter));
        sb.AppendLine(string.Format(c, "compression ratio {0:F2}x (parameters), {1:F2}x (linear MACs)",
            CompressionRatio, MacsAfter == 0 ? double.PositiveInfinity : (double)MacsBefore / MacsAfter));
        return sb.ToString();
    }

    /// <summary>The report as JSON (snake_case keys; non-finite numbers as null).</summary>
    /// <returns>A new JSON object.</returns>
    public JsonObject ToJson()
    {
        var layers = new JsonArray();
        foreach (var l in Layers)
            layers.Add(new JsonObject
            {
                ["name"] = l.Name,
                ["in_features"] = l.InFeatures,
                ["out_features"] = l.OutFeatures,
                ["rank"] = l.Rank,
                ["decision"] = l.Decision.ToString(),
                ["reason"] = l.Reason,
                ["params_before"] = l.ParametersBefore,
                ["params_after"] = l.ParametersAfter,
                ["macs_before"] = l.MacsBefore,
                ["macs_after"] = l.MacsAfter,
                ["retained_energy"] = Finite(l.RetainedEnergy),
                ["relative_error"] = Finite(l.RelativeError),
            });
        return new JsonObject
        {
            ["policy"] = new JsonObject
            {
                ["selection"] = Policy.Selection.ToString(),
                ["rank"] = Policy.Selection == RankSelection.FixedRank ? Policy.Rank : null,
                ["energy"] = Policy.Selection == RankSelection.EnergyThreshold ? Policy.Energy : null,
                ["parameter_budget"] = Policy.Selection == RankSelection.ParameterBudget ? Policy.ParameterBudget : null,
                ["force_factorization"] = Policy.ForceFactorization,
                ["include"] = new JsonArray(Policy.Include.Select(p => (JsonNode?)p).ToArray()),
                ["exclude"] = new JsonArray(Policy.Exclude.Select(p => (JsonNode?)p).ToArray()),
            },
            ["layers"] = layers,
            ["model_params_before"] = ModelParametersBefore,
            ["model_params_after"] = ModelParametersAfter,
            ["compression_ratio"] = Finite(CompressionRatio),
            ["linear_macs_before"] = MacsBefore,
            ["linear_macs_after"] = MacsAfter,
        };
    }

    private static JsonNode? Finite(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;
}
