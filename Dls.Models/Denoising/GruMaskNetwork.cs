using Dls.Compression.LowRank;
using Dls.Models.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Denoising;

/// <summary>Hyper-parameters of <see cref="GruMaskNetwork"/>.</summary>
/// <param name="Bins">Frequency bins per frame (513 for n_fft 1024).</param>
/// <param name="HiddenSize">Width of the input projection and of the GRU state.</param>
public sealed record GruMaskNetworkOptions(int Bins = 513, int HiddenSize = 160)
{
    /// <summary>
    /// Layers stored as low-rank factors (<see cref="LowRankLinear"/>): layer name → rank. Empty for the dense network;
    /// filled by compression so that a checkpoint of a compressed network can be rebuilt.
    /// </summary>
    public IReadOnlyDictionary<string, int> Ranks { get; init; } = new Dictionary<string, int>();

    /// <summary>The names of the linear layers (state-dict prefixes).</summary>
    public static IReadOnlyList<string> LayerNames { get; } = ["fc_in", "gru_ih", "gru_hh", "fc_out"];

    /// <summary>Throws when a value is out of range, naming every bad field.</summary>
    public void Validate()
    {
        MaskLayers.ThrowIfAny(MaskLayers.ShapeAndRankErrors(Bins, HiddenSize, Ranks, LayerNames), nameof(GruMaskNetworkOptions));
    }
}

/// <summary>
/// A causal recurrent mask network: <c>log1p</c> magnitude (see <see cref="MaskFeatures"/>) → fc_in
/// (bins→hidden, ReLU) → a unidirectional GRU over frames → fc_out (hidden→bins, sigmoid) = mask.
/// The GRU is written out with two linear maps (<c>gru_ih</c> for the input, <c>gru_hh</c> for the state; gates in
/// the order r, z, n as in PyTorch's <c>nn.GRU</c>) so that low-rank compression can factor them like any other
/// linear layer, and so that the state can be carried from one block of frames to the next for streaming.
/// </summary>
public sealed class GruMaskNetwork : nn.Module<Tensor, Tensor>, IMaskNetwork, IDescribedModel
{
    /// <summary>The architecture name in checkpoints.</summary>
    public const string ArchitectureName = "gru-mask";

    private readonly GruMaskNetworkOptions _options;
    private readonly nn.Module<Tensor, Tensor> fc_in;
    private readonly nn.Module<Tensor, Tensor> gru_ih;
    private readonly nn.Module<Tensor, Tensor> gru_hh;
    private readonly nn.Module<Tensor, Tensor> fc_out;

    /// <summary>Creates the network with freshly initialised weights.</summary>
    /// <param name="options">Hyper-parameters (defaults when <c>null</c>).</param>
    public GruMaskNetwork(GruMaskNetworkOptions? options = null)
        : base(nameof(GruMaskNetwork))
    {
        _options = options ?? new GruMaskNetworkOptions();
        _options.Validate();
        int h = _options.HiddenSize;
        fc_in = MaskLayers.Linear(_options.Ranks, "fc_in", _options.Bins, h);
        gru_ih = MaskLayers.Linear(_options.Ranks, "gru_ih", h, 3 * h);
        gru_hh = MaskLayers.Linear(_options.Ranks, "gru_hh", h, 3 * h);
        fc_out = MaskLayers.Linear(_options.Ranks, "fc_out", h, _options.Bins);
        RegisterComponents();
    }

    /// <summary>The hyper-parameters, with <c>Ranks</c> reflecting the layers as they are now (after any compression).</summary>
    public GruMaskNetworkOptions Options => _options with { Ranks = MaskLayers.RanksOf(this) };

    /// <inheritdoc />
    public ModelDescription Describe() => new(Architecture, ModelArchitectures.ToJson(Options));

    /// <inheritdoc />
    public string Architecture => ArchitectureName;

    /// <inheritdoc />
    public int Bins => _options.Bins;

    /// <inheritdoc />
    public override Tensor forward(Tensor magnitude)
    {
        using var scope = NewDisposeScope();
        Tensor mask = ForwardContinued(magnitude, null, out Tensor? state);
        state?.Dispose();
        return scope.MoveToOuter(mask);
    }

    /// <inheritdoc />
    public Tensor ForwardContinued(Tensor magnitude, Tensor? state, out Tensor? nextState)
    {
        MaskShapes.Check(magnitude, _options.Bins);
        long batch = magnitude.shape[0], frames = magnitude.shape[1];
        int hidden = _options.HiddenSize;
        if (state is not null && (state.dim() != 2 || state.shape[0] != batch || state.shape[1] != hidden))
        {
            throw new ArgumentException(
                $"Expected a state of shape ({batch}, {hidden}); found ({string.Join(", ", state.shape)}).", nameof(state));
        }

        using var scope = NewDisposeScope();
        // (batch, frames, 3·hidden): the input half of every gate, for all frames in one matrix product.
        Tensor xg = gru_ih.forward(nn.functional.relu(fc_in.forward(MaskFeatures.Scale(magnitude))));
        Tensor h = state ?? zeros(batch, hidden, dtype: magnitude.dtype, device: magnitude.device);
        var outputs = new Tensor[frames];
        for (long t = 0; t < frames; t++)
        {
            Tensor[] x = xg.select(1, t).chunk(3, -1);
            Tensor[] g = gru_hh.forward(h).chunk(3, -1);
            // Explicit alpha scalars: see Scalars for why not the + operator.
            Tensor r = x[0].add(g[0], Scalars.One).sigmoid();
            Tensor z = x[1].add(g[1], Scalars.One).sigmoid();
            Tensor n = x[2].add(r.mul(g[2]), Scalars.One).tanh();
            h = n.add(z.mul(h.sub(n)), Scalars.One);
            outputs[t] = h;
        }

        // (batch, frames, hidden) → (batch, frames, bins)
        Tensor mask = frames == 0
            ? zeros(batch, 0, _options.Bins, dtype: magnitude.dtype, device: magnitude.device)
            : nn.functional.sigmoid(fc_out.forward(stack(outputs, 1)));
        nextState = scope.MoveToOuter(h.detach().clone());
        return scope.MoveToOuter(mask);
    }
}
