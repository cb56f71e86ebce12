using Dls.Compression.LowRank;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dls.Compression.Counting;

/// <summary>Parameters of one module (its own, not its children's).</summary>
/// <param name="Name">Dotted module name (<c>""</c> for the root).</param>
/// <param name="Type">The module's type name.</param>
/// <param name="Total">Parameter elements.</param>
/// <param name="Trainable">Elements of parameters that require grad.</param>
public sealed record ModuleParameterCount(string Name, string Type, long Total, long Trainable);

/// <summary>Parameter counts of a model.</summary>
/// <param name="Total">All parameter elements.</param>
/// <param name="Trainable">Elements of parameters that require grad.</param>
/// <param name="PerModule">Modules that own parameters, in registration order.</param>
public sealed record ParameterCount(long Total, long Trainable, IReadOnlyList<ModuleParameterCount> PerModule);

/// <summary>Multiply-accumulates of one layer.</summary>
/// <param name="Name">Dotted module name.</param>
/// <param name="Type">Layer type.</param>
/// <param name="PerPosition">MACs for one position (one input row of a linear layer, one output frame of a convolution, one time step of a GRU).</param>
/// <param name="Total">PerPosition × positions.</param>
public sealed record LayerMacs(string Name, string Type, long PerPosition, long Total);

/// <summary>Multiply-accumulates of a model's forward pass.</summary>
/// <param name="Total">Sum over counted layers.</param>
/// <param name="Layers">The counted layers.</param>
/// <param name="Uncounted">Names of leaf modules with parameters whose type is not counted.</param>
public sealed record MacCount(long Total, IReadOnlyList<LayerMacs> Layers, IReadOnlyList<string> Uncounted);

/// <summary>
/// Counts parameters and multiply-accumulates (MACs). MACs are counted for <c>Linear</c>, <see cref="LowRankLinear"/>,
/// <c>Conv1d</c> and (bi)directional multi-layer <c>GRU</c> — the recurrent layer most counters skip — from the weight
/// shapes alone; elementwise work (biases, activations, gates' sigmoid/tanh) is not counted.
/// </summary>
public static class ModelCounter
{
    /// <summary>Counts parameter elements, total and trainable, per owning module.</summary>
    /// <param name="model">The model.</param>
    /// <returns>The counts.</returns>
    public static ParameterCount CountParameters(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var perModule = new List<ModuleParameterCount>();
        long total = 0, trainable = 0;
        foreach (var (name, module) in new[] { ("", model) }.Concat(model.named_modules()))
        {
            long t = 0, tr = 0;
            foreach (var p in module.parameters(recurse: false))
            {
                t += p.numel();
                if (p.requires_grad) tr += p.numel();
            }
            if (t == 0) continue;
            perModule.Add(new ModuleParameterCount(name, module.GetType().Name, t, tr));
            total += t;
            trainable += tr;
        }
        return new ParameterCount(total, trainable, perModule);
    }

    /// <summary>MACs of a forward pass in which every counted layer processes <paramref name="positions"/> positions.</summary>
    /// <param name="model">The model.</param>
    /// <param name="positions">Input rows for linear layers, output frames for convolutions, time steps for GRUs (per sample). Default 1.</param>
    /// <returns>The counts per layer and in total.</returns>
    /// <remarks>
    /// Frame-wise models (an MLP on rows, a mask network on spectrogram frames, a GRU over frames) run every layer on
    /// the same number of positions; for others, add up <see cref="LayerMacsPerPosition"/> per layer yourself.
    /// </remarks>
    public static MacCount CountMacs(Module model, long positions = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(positions, 1);
        var layers = new List<LayerMacs>();
        var uncounted = new List<string>();
        foreach (var (name, module) in new[] { ("", model) }.Concat(model.named_modules()))
        {
            long? per = LayerMacsPerPosition(module);
            if (per is { } macs)
                layers.Add(new LayerMacs(name, module.GetType().Name, macs, macs * positions));
            else if (module.parameters(recurse: false).Any() && !module.children().Any())
                uncounted.Add(name);
        }
        return new MacCount(layers.Sum(l => l.Total), layers, uncounted);
    }

    /// <summary>MACs per position of one layer, or null for a type that is not counted.</summary>
    /// <param name="module">The layer.</param>
    /// <returns>Linear: in·out; LowRankLinear: rank·(in+out); Conv1d: out·(in/groups)·kernel per output frame;
    /// GRU: Σ over layers and directions of 3·hidden·(input_l + hidden) per time step.</returns>
    public static long? LayerMacsPerPosition(Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        switch (module)
        {
            case Linear linear:
                return linear.in_features * linear.out_features;
            case LowRankLinear lowRank:
                return lowRank.Rank * (lowRank.InFeatures + lowRank.OutFeatures);
            case Conv1d conv:
                // weight: (out_channels, in_channels / groups, kernel) — one MAC per weight element per output frame.
                return conv.weight!.numel();
            case GRU gru:
                // weight_ih_l{k}[_reverse]: (3·hidden, input_k), weight_hh_l{k}[_reverse]: (3·hidden, hidden); each
                // weight element is used once per time step and direction (reset/update/new gates stacked by rows).
                long macs = 0;
                foreach (var (name, p) in gru.named_parameters(recurse: false))
                    if (name.StartsWith("weight_", StringComparison.Ordinal))
                        macs += p.numel();
                return macs;
            default:
                return null;
        }
    }
}
