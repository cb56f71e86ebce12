using Dls.Compression.LowRank;
using Dls.Compression.Modules;
using Dls.Models.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Denoising;

/// <summary>Hyper-parameters of <see cref="GruMaskNetwork"/>.</summary>
/// <param name="Bins">Frequency bins per frame (513 for n_fft 1024).</param>
/// <param name="HiddenSize">Width of the input projection and of the GRU state.</param>
public sealed record GruMaskNetworkOptions(int Bins = 513, int HiddenSize = 160)
{
    /// <summary>Stacked GRU layers (1 or 2); the second reads the first's state sequence.</summary>
    public int Layers { get; init; } = 1;

    /// <summary>
    /// Standardise the input features per bin with a mean and deviation measured on training data
    /// (<see cref="GruMaskNetwork.SetInputStatistics"/>; stored in the checkpoint as <c>input_mean</c>/<c>input_std</c>).
    /// </summary>
    public bool NormalizeInput { get; init; }

    /// <summary>What the first layer reads of the noisy magnitude: <c>log1p</c> (default) or the raw magnitude (see <see cref="FcMaskNetworkOptions.Input"/>).</summary>
    public MaskInput Input { get; init; }

    /// <summary>How fc_out's output (after the refiner, if any) becomes the mask: sigmoid × <see cref="MaskScale"/> (default) or ReLU.</summary>
    public MaskActivation Activation { get; init; }

    /// <summary>
    /// Frames of lookahead L (0 = causal): the mask of frame t is computed after the GRU has read frames up to t + L,
    /// by fc_out from the GRU state at t + L (and, with <see cref="InputSkip"/>, frame t's own projection). Streaming
    /// then waits L more hops (512 samples each) than a causal network; whole-file and chunked results still agree.
    /// </summary>
    public int LookaheadFrames { get; init; }

    /// <summary>
    /// Width of an extra per-frame layer before fc_in (<c>fc_front</c>: bins→FrontEndSize, ReLU; fc_in then maps
    /// FrontEndSize→hidden); 0 for none. It gives the frame-wise path the depth of the FC network.
    /// </summary>
    public int FrontEndSize { get; init; }

    /// <summary>Whether fc_out also reads fc_in's projection of the frame being masked (hidden → 2·hidden inputs).</summary>
    public bool InputSkip { get; init; }

    /// <summary>
    /// Channels of the mask refiner, 0 for none: a causal two-layer convolution over (frames × bins), shared by every
    /// frequency, that corrects each bin's logit from the standardised features and logits around it (state-dict
    /// prefix <c>refiner</c>). Causal networks only (<see cref="LookaheadFrames"/> = 0).
    /// </summary>
    public int RefinerChannels { get; init; }

    /// <summary>Frames the refiner reads: the masked frame and <c>RefinerFrames − 1</c> before it (1–16).</summary>
    public int RefinerFrames { get; init; } = 3;

    /// <summary>Bins around a bin each refiner layer reads (odd, 1–31).</summary>
    public int RefinerBins { get; init; } = 5;

    /// <summary>Upper bound of the mask: mask = MaskScale · sigmoid(·) (see <see cref="FcMaskNetworkOptions.MaskScale"/>); 1 with ReLU.</summary>
    public double MaskScale { get; init; } = 1.0;

    /// <summary>
    /// Layers stored as low-rank factors (<see cref="LowRankLinear"/>): layer name → rank. Empty for the dense network;
    /// filled by compression so that a checkpoint of a compressed network can be rebuilt.
    /// </summary>
    public IReadOnlyDictionary<string, int> Ranks { get; init; } = new Dictionary<string, int>();

    /// <summary>The names of the linear layers (state-dict prefixes); <c>gru2_*</c> exist only with two layers.</summary>
    public static IReadOnlyList<string> LayerNames { get; } = ["fc_front", "fc_in", "gru_ih", "gru_hh", "gru2_ih", "gru2_hh", "fc_out"];

    /// <summary>Throws when a value is out of range, naming every bad field.</summary>
    public void Validate()
    {
        List<string> errors = MaskLayers.ShapeAndRankErrors(Bins, HiddenSize, Ranks, LayerNames);
        MaskLayers.AddInputOutputErrors(errors, MaskScale, Input, Activation);
        if (FrontEndSize < 0)
        {
            errors.Add($"FrontEndSize must be ≥ 0 (found {FrontEndSize})");
        }

        if (LookaheadFrames is < 0 or > 8)
        {
            errors.Add($"LookaheadFrames must be in [0, 8] (found {LookaheadFrames})");
        }

        if (Layers is < 1 or > 2)
        {
            errors.Add($"Layers must be 1 or 2 (found {Layers})");
        }
        else if (Layers == 1 && Ranks is not null && Ranks.Keys.Any(k => k.StartsWith("gru2_", StringComparison.Ordinal)))
        {
            errors.Add("Ranks name a gru2_* layer, which exists only with Layers = 2");
        }

        if (RefinerChannels is < 0 or > 256)
        {
            errors.Add($"RefinerChannels must be in [0, 256] (found {RefinerChannels})");
        }
        else if (RefinerChannels > 0)
        {
            if (RefinerFrames is < 1 or > 16)
            {
                errors.Add($"RefinerFrames must be in [1, 16] (found {RefinerFrames})");
            }

            if (RefinerBins is < 1 or > 31 || RefinerBins % 2 == 0)
            {
                errors.Add($"RefinerBins must be odd and in [1, 31] (found {RefinerBins})");
            }

            if (LookaheadFrames != 0)
            {
                errors.Add($"RefinerChannels > 0 needs a causal network (LookaheadFrames = 0; found {LookaheadFrames})");
            }
        }

        if (FrontEndSize == 0 && Ranks is not null && Ranks.ContainsKey("fc_front"))
        {
            errors.Add("Ranks name fc_front, which exists only with FrontEndSize > 0");
        }

        MaskLayers.ThrowIfAny(errors, nameof(GruMaskNetworkOptions));
    }
}

/// <summary>
/// A recurrent mask network, causal by default: <c>log1p</c> magnitude (see <see cref="MaskFeatures"/>; the raw
/// magnitude with <see cref="GruMaskNetworkOptions.Input"/>; optionally standardised per bin) → optional fc_front (bins→FrontEndSize, ReLU) → fc_in (→hidden, ReLU) = the frame's
/// projection u → one or two unidirectional GRU layers over frames → fc_out (hidden, or hidden + u of the masked
/// frame with <see cref="GruMaskNetworkOptions.InputSkip"/> → bins) = logits → optional refiner (with
/// <see cref="GruMaskNetworkOptions.RefinerChannels"/> &gt; 0: a causal convolution over frames × bins that corrects each
/// logit from the standardised features and logits around it) → sigmoid × <see cref="GruMaskNetworkOptions.MaskScale"/>
/// (or ReLU with <see cref="GruMaskNetworkOptions.Activation"/>) = mask. With <see cref="GruMaskNetworkOptions.LookaheadFrames"/> L the mask of frame t is read from the GRU state
/// after frame t + L.
/// Each GRU is written out with two linear maps (<c>gru_ih</c> for the input, <c>gru_hh</c> for the state; gates in
/// the order r, z, n as in PyTorch's <c>nn.GRU</c>) so that low-rank compression can factor them like any other
/// linear layer, and so that the state can be carried from one block of frames to the next for streaming.
/// </summary>
public sealed class GruMaskNetwork : nn.Module<Tensor, Tensor>, IMaskNetwork, IDescribedModel
{
    /// <summary>The architecture name in checkpoints.</summary>
    public const string ArchitectureName = "gru-mask";

    private readonly GruMaskNetworkOptions _options;
    private readonly nn.Module<Tensor, Tensor>? fc_front;
    private readonly nn.Module<Tensor, Tensor> fc_in;
    private readonly nn.Module<Tensor, Tensor> gru_ih;
    private readonly nn.Module<Tensor, Tensor> gru_hh;
    private readonly nn.Module<Tensor, Tensor>? gru2_ih;
    private readonly nn.Module<Tensor, Tensor>? gru2_hh;
    private readonly nn.Module<Tensor, Tensor> fc_out;
    private readonly MaskRefiner? refiner;
    private readonly Tensor? input_mean;
    private readonly Tensor? input_std;
    private readonly MaskInputOutput _io;

    /// <summary>Creates the network with freshly initialised weights.</summary>
    /// <param name="options">Hyper-parameters (defaults when <c>null</c>).</param>
    public GruMaskNetwork(GruMaskNetworkOptions? options = null)
        : base(nameof(GruMaskNetwork))
    {
        _options = options ?? new GruMaskNetworkOptions();
        _options.Validate();
        int h = _options.HiddenSize;
        if (_options.FrontEndSize > 0)
        {
            fc_front = MaskLayers.Linear(_options.Ranks, "fc_front", _options.Bins, _options.FrontEndSize);
        }

        fc_in = MaskLayers.Linear(_options.Ranks, "fc_in", _options.FrontEndSize > 0 ? _options.FrontEndSize : _options.Bins, h);
        gru_ih = MaskLayers.Linear(_options.Ranks, "gru_ih", h, 3 * h);
        gru_hh = MaskLayers.Linear(_options.Ranks, "gru_hh", h, 3 * h);
        if (_options.Layers == 2)
        {
            gru2_ih = MaskLayers.Linear(_options.Ranks, "gru2_ih", h, 3 * h);
            gru2_hh = MaskLayers.Linear(_options.Ranks, "gru2_hh", h, 3 * h);
        }

        fc_out = MaskLayers.Linear(_options.Ranks, "fc_out", _options.InputSkip ? 2 * h : h, _options.Bins);
        if (_options.RefinerChannels > 0)
        {
            refiner = new MaskRefiner(_options.RefinerChannels, _options.RefinerFrames, _options.RefinerBins, _options.Bins);
        }

        _io = new MaskInputOutput(_options.NormalizeInput, _options.Bins, _options.MaskScale, _options.Input, _options.Activation);
        input_mean = _io.Mean;
        input_std = _io.Std;
        RegisterComponents();
        this.DetachStateFromDisposeScopes();
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
    public bool NormalizesInput => _options.NormalizeInput;

    /// <inheritdoc />
    public int LookaheadFrames => _options.LookaheadFrames;

    /// <summary>
    /// Width of the state carried between blocks: (layers + lookahead frames) × hidden size, plus the refiner's history
    /// ((RefinerFrames − 1) × 2 × bins) when there is one.
    /// </summary>
    public int StateSize => RecurrentStateSize + (refiner?.StateSize ?? 0);

    private int RecurrentStateSize => (_options.Layers + _options.LookaheadFrames) * _options.HiddenSize;

    /// <inheritdoc />
    public void SetInputStatistics(FeatureStatistics statistics) => _io.Set(statistics, _options.Bins);

    /// <inheritdoc />
    public override Tensor forward(Tensor magnitude)
    {
        MaskShapes.Check(magnitude, _options.Bins);
        using var scope = NewDisposeScope();
        Tensor mask = ForwardContinued(magnitude, null, out Tensor? state);
        int lookahead = _options.LookaheadFrames;
        if (lookahead > 0)
        {
            // Rows of the continued call belong to frames −L … T−1−L; the flush adds frames T−L … T−1.
            long frames = magnitude.shape[1];
            mask = cat([mask, Flush(state, magnitude.shape[0])], 1).narrow(1, lookahead, frames);
        }

        state?.Dispose();
        return scope.MoveToOuter(mask);
    }

    /// <inheritdoc />
    /// <remarks>
    /// The state has shape (batch, (layers + L) × hidden): the layers' GRU states, then the projections of the last L
    /// frames (oldest first). With lookahead L the returned rows are the masks of the frames L before the given ones.
    /// </remarks>
    public Tensor ForwardContinued(Tensor magnitude, Tensor? state, out Tensor? nextState)
    {
        MaskShapes.Check(magnitude, _options.Bins);
        long batch = magnitude.shape[0];
        CheckState(state, batch);
        using var scope = NewDisposeScope();
        // (batch, frames, bins)
        Tensor features = _io.Features(magnitude);
        Tensor f = fc_front is null ? features : nn.functional.relu(fc_front.forward(features));
        // (batch, frames, hidden)
        Tensor u = nn.functional.relu(fc_in.forward(f));
        Tensor mask = Step(u, features, state, batch, magnitude.dtype, magnitude.device, out Tensor next);
        nextState = scope.MoveToOuter(next);
        return scope.MoveToOuter(mask);
    }

    /// <inheritdoc />
    public Tensor Flush(Tensor? state, long batch)
    {
        CheckState(state, batch);
        using var scope = NewDisposeScope();
        ScalarType dtype = state?.dtype ?? ScalarType.Float32;
        Device device = state?.device ?? CPU;
        // The frames after the end are projections of zero (not of a zero magnitude, whose features are not zero
        // once standardised): the network learnt this padding, as whole-file processing applies it too.
        Tensor u = zeros(batch, _options.LookaheadFrames, _options.HiddenSize, dtype: dtype, device: device);
        Tensor mask = Step(u, null, state, batch, dtype, device, out Tensor next);
        next.Dispose();
        return scope.MoveToOuter(mask);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _io.Dispose();
        }

        base.Dispose(disposing);
    }

    private void CheckState(Tensor? state, long batch)
    {
        MaskShapes.CheckBatch(batch);
        if (state is null)
        {
            return;
        }

        if (state.dim() != 2 || state.shape[0] != batch || state.shape[1] != StateSize)
        {
            throw new ArgumentException(
                $"Expected a state of shape ({batch}, {StateSize}); found ({string.Join(", ", state.shape)}).", nameof(state));
        }

        // The state is multiplied by gru_hh's weight: any other dtype would fail natively with a message about mat1/mat2.
        ScalarType expected = gru_hh.parameters().First().dtype;
        if (state.dtype != expected)
        {
            throw new ArgumentException(
                $"Expected a state of dtype {expected} (the network's parameters); found {state.dtype}.", nameof(state));
        }
    }

    /// <summary>
    /// Runs the GRU layers over projected frames <paramref name="u"/> (batch, frames, hidden) from a state and returns
    /// one mask row per step: the mask of the frame L steps back. <paramref name="features"/> (batch, frames, bins) feed
    /// the refiner; they are null only in <see cref="Flush"/>, which a network with a refiner (causal) never needs.
    /// </summary>
    private Tensor Step(Tensor u, Tensor? features, Tensor? fullState, long batch, ScalarType dtype, Device device, out Tensor nextState)
    {
        int hidden = _options.HiddenSize, layers = _options.Layers, lookahead = _options.LookaheadFrames;
        long frames = u.shape[1];
        Tensor? state = fullState is null || refiner is null ? fullState : fullState.narrow(1, 0, RecurrentStateSize);
        Tensor[] parts = state is null
            ? Enumerable.Range(0, layers + lookahead).Select(_ => zeros(batch, hidden, dtype: dtype, device: device)).ToArray()
            : state.chunk(layers + lookahead, 1);
        Tensor[] last = new Tensor[layers];
        (Tensor x, last[0]) = Recur(gru_ih.forward(u), gru_hh, parts[0], frames);
        if (layers == 2)
        {
            (x, last[1]) = Recur(gru2_ih!.forward(x), gru2_hh!, parts[1], frames);
        }

        // (batch, L + frames, hidden): the projections of the L frames before this call, then this call's.
        Tensor history = lookahead == 0 ? u : cat([stack(parts[layers..], 1), u], 1);
        Tensor head = _options.InputSkip ? cat([x, history.narrow(1, 0, frames)], 2) : x;
        // (batch, frames, hidden or 2·hidden) → (batch, frames, bins)
        Tensor logits = fc_out.forward(head);
        Tensor[] carried = lookahead == 0 ? last : [.. last, .. history.narrow(1, frames, lookahead).unbind(1)];
        if (refiner is not null)
        {
            Tensor? refinerState = fullState?.narrow(1, RecurrentStateSize, refiner.StateSize);
            logits = refiner.Refine(features!, logits, refinerState, out Tensor refinerNext);
            carried = [.. carried, refinerNext];
        }

        Tensor mask = _io.Mask(logits);
        nextState = (carried.Length == 1 ? carried[0] : cat(carried, 1)).detach().clone();
        return mask;
    }

    /// <summary>One GRU layer over the frames: returns the state sequence (batch, frames, hidden) and the last state.</summary>
    private static (Tensor Sequence, Tensor Last) Recur(Tensor xg, nn.Module<Tensor, Tensor> hh, Tensor h, long frames)
    {
        if (frames == 0)
        {
            return (zeros(h.shape[0], 0, h.shape[1], dtype: h.dtype, device: h.device), h);
        }

        var outputs = new Tensor[frames];
        for (long t = 0; t < frames; t++)
        {
            Tensor[] x = xg.select(1, t).chunk(3, -1);
            Tensor[] g = hh.forward(h).chunk(3, -1);
            // Explicit alpha scalars: see Scalars for why not the + operator.
            Tensor r = x[0].add(g[0], Scalars.One).sigmoid();
            Tensor z = x[1].add(g[1], Scalars.One).sigmoid();
            Tensor n = x[2].add(r.mul(g[2]), Scalars.One).tanh();
            h = n.add(z.mul(h.sub(n)), Scalars.One);
            outputs[t] = h;
        }

        return (stack(outputs, 1), h);
    }
}
