using Dls.Compression.LowRank;
using Dls.Compression.Modules;
using Dls.Models.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dls.Models.Mnist;

/// <summary>
/// The MNIST baseline: 784 → 1024 (×5 hidden layers) → 10 logits, ReLU and dropout 0.2 after each hidden layer;
/// 5,012,490 parameters with the default options.
/// </summary>
/// <remarks>
/// State-dict keys <c>layers.{i}.weight</c>/<c>.bias</c>. The layers are held as <c>Module&lt;Tensor, Tensor&gt;</c> so that
/// <see cref="ModelCompressor"/> can swap any of them for a <see cref="LowRankLinear"/> (whose keys are then
/// <c>layers.{i}.u</c>, <c>.v</c>, <c>.bias</c> — the layout of <see cref="LowRankMlp"/>).
/// </remarks>
public sealed class MnistMlp : Module<Tensor, Tensor>, IDescribedModel
{
    /// <summary>The architecture name in checkpoints.</summary>
    public const string ArchitectureName = "mnist-mlp";

    private readonly ModuleList<Module<Tensor, Tensor>> layers;
    private readonly double dropout;

    /// <summary>Creates a randomly initialised network (PyTorch's default Linear initialisation).</summary>
    /// <param name="options">The shape; null uses the defaults.</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public MnistMlp(MnistMlpOptions? options = null) : base(nameof(MnistMlp))
    {
        Options = options ?? new MnistMlpOptions();
        Options.ThrowIfInvalid(nameof(MnistMlpOptions));
        dropout = Options.Dropout;
        layers = new ModuleList<Module<Tensor, Tensor>>();
        int width = Options.InputSize;
        for (int i = 0; i < Options.HiddenLayers; i++)
        {
            layers.Add(nn.Linear(width, Options.HiddenSize));
            width = Options.HiddenSize;
        }
        layers.Add(nn.Linear(width, Options.Classes));
        RegisterComponents();
        this.DetachStateFromDisposeScopes();
    }

    /// <summary>The shape.</summary>
    public MnistMlpOptions Options { get; }

    /// <summary>The layers in order (hidden layers, then the output layer).</summary>
    public IReadOnlyList<Module<Tensor, Tensor>> Layers => layers.ToArray();

    /// <summary>Computes class logits.</summary>
    /// <param name="input">(batch, 784) pixels in [0, 1].</param>
    /// <returns>(batch, 10) logits.</returns>
    /// <exception cref="ArgumentException">The input is not (batch, <see cref="MnistMlpOptions.InputSize"/>) of the weights' dtype (float32 unless converted).</exception>
    public override Tensor forward(Tensor input) => MlpForward.Run(layers, input, Options.InputSize, dropout, training);

    /// <inheritdoc />
    public ModelDescription Describe() => new(ArchitectureName, ModelArchitectures.ToJson(Options));
}

/// <summary>
/// The MNIST network with every hidden layer factorized at rank D (<see cref="LowRankLinear"/>), trainable from random
/// initialisation or initialised from a trained <see cref="MnistMlp"/> by truncated SVD
/// (<see cref="FromDense(MnistMlp, int, bool)"/>). 215,370 parameters at D = 20 with the output layer dense, 225,810 with it factorized.
/// </summary>
public sealed class LowRankMlp : Module<Tensor, Tensor>, IDescribedModel
{
    /// <summary>The architecture name in checkpoints.</summary>
    public const string ArchitectureName = "mnist-lowrank-mlp";

    private readonly ModuleList<Module<Tensor, Tensor>> layers;
    private readonly double dropout;

    /// <summary>Creates a randomly initialised low-rank network.</summary>
    /// <param name="options">Shape and rank; null uses the defaults (rank 20).</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public LowRankMlp(LowRankMlpOptions? options = null) : base(nameof(LowRankMlp))
    {
        Options = options ?? new LowRankMlpOptions();
        var errors = Options.Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid LowRankMlpOptions: " + string.Join(" ", errors));
        var shape = Options.Shape;
        dropout = shape.Dropout;
        layers = new ModuleList<Module<Tensor, Tensor>>();
        int width = shape.InputSize;
        for (int i = 0; i < shape.HiddenLayers; i++)
        {
            layers.Add(new LowRankLinear(width, shape.HiddenSize, Options.Rank));
            width = shape.HiddenSize;
        }
        layers.Add(Options.FactorizeOutput
            ? new LowRankLinear(width, shape.Classes, Options.Rank)
            : nn.Linear(width, shape.Classes));
        RegisterComponents();
        this.DetachStateFromDisposeScopes();
    }

    /// <summary>Shape and rank.</summary>
    public LowRankMlpOptions Options { get; }

    /// <summary>The layers in order.</summary>
    public IReadOnlyList<Module<Tensor, Tensor>> Layers => layers.ToArray();

    /// <summary>
    /// The SVD initialisation: a low-rank network whose layers are the best rank-D approximations of
    /// <paramref name="dense"/>'s (see <see cref="WeightSvd.Factors"/>); the dense network is not modified.
    /// </summary>
    /// <param name="dense">A trained baseline (not already compressed).</param>
    /// <param name="rank">The rank D, 1 … min(in, out) of every layer it factorizes.</param>
    /// <param name="factorizeOutput">Also factorize the output layer.</param>
    /// <returns>The new network (train mode).</returns>
    /// <exception cref="ArgumentException">
    /// A layer of <paramref name="dense"/> is not a Linear (the model is already compressed), or <paramref name="rank"/>
    /// is more than a factorized layer's SVD can supply (the layer and its min(in, out) are named).
    /// </exception>
    public static LowRankMlp FromDense(MnistMlp dense, int rank, bool factorizeOutput = false)
    {
        ArgumentNullException.ThrowIfNull(dense);
        var linears = DenseLayers(dense);
        // Before the decompositions, so a rank that cannot be supplied costs none.
        CheckRank(linears, rank, factorizeOutput);
        var svds = new List<WeightSvd>();
        try
        {
            // Added one by one, so the decompositions made before a failing layer (e.g. non-finite weights) are disposed too.
            for (int i = 0; i < linears.Length; i++)
                svds.Add(WeightSvd.Of(linears[i].weight!, $"layers.{i}"));
            return FromDense(dense, svds, rank, factorizeOutput);
        }
        finally
        {
            foreach (var svd in svds) svd.Dispose();
        }
    }

    /// <summary>
    /// As <see cref="FromDense(MnistMlp, int, bool)"/>, reusing decompositions of the dense layers' weights (one per
    /// layer, in order) — e.g. to sweep several ranks with one SVD per layer.
    /// </summary>
    /// <param name="dense">A trained baseline (not already compressed).</param>
    /// <param name="svds">The SVD of each of its layers' weights.</param>
    /// <param name="rank">The rank D, 1 … min(in, out) of every layer it factorizes.</param>
    /// <param name="factorizeOutput">Also factorize the output layer.</param>
    /// <returns>The new network (train mode).</returns>
    /// <exception cref="ArgumentException">
    /// As <see cref="FromDense(MnistMlp, int, bool)"/>; or <paramref name="svds"/> does not hold one decomposition of each
    /// layer's weight shape, in order (the layer and both shapes are named).
    /// </exception>
    public static LowRankMlp FromDense(MnistMlp dense, IReadOnlyList<WeightSvd> svds, int rank, bool factorizeOutput = false)
    {
        ArgumentNullException.ThrowIfNull(dense);
        ArgumentNullException.ThrowIfNull(svds);
        var source = DenseLayers(dense);
        if (svds.Count != source.Length)
            throw new ArgumentException($"Expected one decomposition per layer ({source.Length}), found {svds.Count}.", nameof(svds));
        for (int i = 0; i < source.Length; i++)
        {
            var svd = svds[i] ?? throw new ArgumentException($"svds[{i}] is null; expected the decomposition of layer 'layers.{i}'.", nameof(svds));
            if (svd.OutFeatures != source[i].out_features || svd.InFeatures != source[i].in_features)
                throw new ArgumentException(
                    $"svds[{i}] decomposes a {svd.OutFeatures}×{svd.InFeatures} weight, but layer 'layers.{i}' of the dense network is " +
                    $"{source[i].out_features}×{source[i].in_features}; expected the decompositions of its layers, in order.", nameof(svds));
        }
        CheckRank(source, rank, factorizeOutput);
        var model = new LowRankMlp(new LowRankMlpOptions { Shape = dense.Options, Rank = rank, FactorizeOutput = factorizeOutput });
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var target = model.Layers;
        for (int i = 0; i < source.Length; i++)
        {
            var linear = source[i];
            switch (target[i])
            {
                case LowRankLinear lowRank:
                    // CheckRank keeps the rank within the SVD's, so the factors fill the layer's.
                    var (u, v) = svds[i].Factors(rank);
                    lowRank.U.copy_(u);
                    lowRank.V.copy_(v);
                    lowRank.Bias!.copy_(linear.bias!);
                    break;
                case Linear output:
                    output.weight!.copy_(linear.weight!);
                    output.bias!.copy_(linear.bias!);
                    break;
            }
        }
        return model;
    }

    /// <summary>The dense network's layers as Linear, or the intended message when one was already replaced.</summary>
    private static Linear[] DenseLayers(MnistMlp dense)
    {
        var layers = dense.Layers;
        var linears = new Linear[layers.Count];
        for (int i = 0; i < layers.Count; i++)
        {
            linears[i] = layers[i] as Linear
                ?? throw new ArgumentException($"Layer {i} of the dense network is a {layers[i].GetType().Name}; expected Linear (is it already compressed?).", nameof(dense));
        }
        return linears;
    }

    /// <summary>
    /// Refuses a rank the SVD of a layer to factorize cannot supply: a rank-D factorization of an out×in weight has at most
    /// min(in, out) non-zero singular directions, so the extra factor rows and columns would be zeros that only enlarge
    /// the model (the constructor still allows such ranks for training from random initialisation).
    /// </summary>
    private static void CheckRank(Linear[] layers, int rank, bool factorizeOutput)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1);
        int factorized = factorizeOutput ? layers.Length : layers.Length - 1;
        for (int i = 0; i < factorized; i++)
        {
            long inFeatures = layers[i].in_features, outFeatures = layers[i].out_features, maxRank = Math.Min(inFeatures, outFeatures);
            if (rank > maxRank)
                throw new ArgumentException(
                    $"Expected a rank the SVD can supply: layer 'layers.{i}' ({inFeatures}→{outFeatures}) has at most rank {maxRank} = min(in, out); " +
                    $"requested {rank}. A higher rank would only add zero factors and parameters.", nameof(rank));
        }
    }

    /// <summary>Computes class logits.</summary>
    /// <param name="input">(batch, 784) pixels in [0, 1].</param>
    /// <returns>(batch, 10) logits.</returns>
    /// <exception cref="ArgumentException">The input is not (batch, <see cref="LowRankMlpOptions.Shape"/>.InputSize) of the weights' dtype (float32 unless converted).</exception>
    public override Tensor forward(Tensor input) => MlpForward.Run(layers, input, Options.Shape.InputSize, dropout, training);

    /// <inheritdoc />
    public ModelDescription Describe() => new(ArchitectureName, ModelArchitectures.ToJson(Options));
}

/// <summary>The shared forward pass: layer, ReLU (in place), dropout, …, output layer.</summary>
internal static class MlpForward
{
    public static Tensor Run(ModuleList<Module<Tensor, Tensor>> layers, Tensor input, int inputSize, double dropout, bool training)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 2 || input.shape[1] != inputSize)
            throw new ArgumentException($"Expected (batch, {inputSize}); found ({string.Join(", ", input.shape)}).", nameof(input));
        // uint8 images straight from an IDX file are the likely mistake; libtorch would only say "self and mat2 must have
        // the same dtype" from inside the first layer.
        var expected = layers[0] switch
        {
            Linear l => l.weight!.dtype,
            LowRankLinear r => r.V.dtype,
            var other => other.parameters().First().dtype,
        };
        if (input.dtype != expected)
            throw new ArgumentException(
                $"Expected {expected} input (the dtype of the weights), found {input.dtype}; convert it with input.to(ScalarType.{expected})" +
                (input.dtype == ScalarType.Byte ? " and divide uint8 pixels by 255 (MnistTensors.From does both)." : "."),
                nameof(input));
        int last = layers.Count - 1;
        Tensor x = input;
        for (int i = 0; i < last; i++)
        {
            var y = layers[i].call(x);
            if (!ReferenceEquals(x, input)) x.Dispose();
            y.relu_();
            if (training && dropout > 0)
            {
                var dropped = torch.nn.functional.dropout(y, dropout, training: true);
                y.Dispose();
                y = dropped;
            }
            x = y;
        }
        var logits = layers[last].call(x);
        if (!ReferenceEquals(x, input)) x.Dispose();
        return logits;
    }
}
