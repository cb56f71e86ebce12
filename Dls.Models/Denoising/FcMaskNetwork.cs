using Dls.Compression.LowRank;
using Dls.Compression.Modules;
using Dls.Models.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Dls.Models.Denoising;

/// <summary>Hyper-parameters of <see cref="FcMaskNetwork"/>.</summary>
/// <param name="Bins">Frequency bins per frame (513 for n_fft 1024).</param>
/// <param name="HiddenSize">Width of the two hidden layers.</param>
/// <param name="Dropout">Dropout probability after each hidden layer while training.</param>
public sealed record FcMaskNetworkOptions(int Bins = 513, int HiddenSize = 512, double Dropout = 0.1)
{
    /// <summary>
    /// Standardise the input features per bin with a mean and deviation measured on training data
    /// (<see cref="FcMaskNetwork.SetInputStatistics"/>; stored in the checkpoint as <c>input_mean</c>/<c>input_std</c>).
    /// </summary>
    public bool NormalizeInput { get; init; }

    /// <summary>
    /// What fc1 reads of the noisy magnitude: <c>log1p</c> (default, what the library trains) or the raw magnitude,
    /// for a network trained elsewhere on |X| and imported (see <see cref="MaskInput"/>).
    /// </summary>
    public MaskInput Input { get; init; }

    /// <summary>How fc3's output becomes the mask: sigmoid × <see cref="MaskScale"/> (default) or ReLU (<see cref="MaskActivation"/>).</summary>
    public MaskActivation Activation { get; init; }

    /// <summary>
    /// Upper bound of the mask: mask = MaskScale · sigmoid(·). 1 keeps the mask in (0, 1); a bound above 1 lets the
    /// network boost bins where the noise cancelled part of the speech (the phase-sensitive mask can exceed 1). Must be 1
    /// with <see cref="MaskActivation.Relu"/>.
    /// </summary>
    public double MaskScale { get; init; } = 1.0;

    /// <summary>
    /// Layers stored as low-rank factors (<see cref="LowRankLinear"/>): layer name → rank. Empty for the dense network;
    /// filled by compression so that a checkpoint of a compressed network can be rebuilt.
    /// </summary>
    public IReadOnlyDictionary<string, int> Ranks { get; init; } = new Dictionary<string, int>();

    /// <summary>The names of the linear layers (state-dict prefixes).</summary>
    public static IReadOnlyList<string> LayerNames { get; } = ["fc1", "fc2", "fc3"];

    /// <summary>Throws when a value is out of range, naming every bad field.</summary>
    public void Validate()
    {
        List<string> errors = MaskLayers.ShapeAndRankErrors(Bins, HiddenSize, Ranks, LayerNames);
        MaskLayers.AddInputOutputErrors(errors, MaskScale, Input, Activation);
        if (Dropout is < 0 or >= 1 || double.IsNaN(Dropout))
        {
            errors.Add($"Dropout must be in [0, 1) (found {Dropout})");
        }

        MaskLayers.ThrowIfAny(errors, nameof(FcMaskNetworkOptions));
    }
}

/// <summary>
/// The assignment's network: every frame on its own, <c>log1p</c> magnitude (see <see cref="MaskFeatures"/>; the raw
/// magnitude with <see cref="FcMaskNetworkOptions.Input"/>; optionally standardised per bin) → fc1 (bins→hidden, ReLU) →
/// fc2 (hidden→hidden, ReLU) → fc3 (hidden→bins, sigmoid × <see cref="FcMaskNetworkOptions.MaskScale"/>, or ReLU with
/// <see cref="FcMaskNetworkOptions.Activation"/>) = mask.
/// </summary>
public sealed class FcMaskNetwork : nn.Module<Tensor, Tensor>, IMaskNetwork, IDescribedModel
{
    /// <summary>The architecture name in checkpoints.</summary>
    public const string ArchitectureName = "fc-mask";

    private readonly FcMaskNetworkOptions _options;
    private readonly nn.Module<Tensor, Tensor> fc1;
    private readonly nn.Module<Tensor, Tensor> fc2;
    private readonly nn.Module<Tensor, Tensor> fc3;
    private readonly Dropout dropout;
    private readonly Tensor? input_mean;
    private readonly Tensor? input_std;
    private readonly MaskInputOutput _io;

    /// <summary>Creates the network with freshly initialised weights.</summary>
    /// <param name="options">Hyper-parameters (defaults when <c>null</c>).</param>
    public FcMaskNetwork(FcMaskNetworkOptions? options = null)
        : base(nameof(FcMaskNetwork))
    {
        _options = options ?? new FcMaskNetworkOptions();
        _options.Validate();
        fc1 = MaskLayers.Linear(_options.Ranks, "fc1", _options.Bins, _options.HiddenSize);
        fc2 = MaskLayers.Linear(_options.Ranks, "fc2", _options.HiddenSize, _options.HiddenSize);
        fc3 = MaskLayers.Linear(_options.Ranks, "fc3", _options.HiddenSize, _options.Bins);
        dropout = nn.Dropout(_options.Dropout);
        _io = new MaskInputOutput(_options.NormalizeInput, _options.Bins, _options.MaskScale, _options.Input, _options.Activation);
        input_mean = _io.Mean;
        input_std = _io.Std;
        RegisterComponents();
        this.DetachStateFromDisposeScopes();
    }

    /// <summary>The hyper-parameters, with <c>Ranks</c> reflecting the layers as they are now (after any compression).</summary>
    public FcMaskNetworkOptions Options => _options with { Ranks = MaskLayers.RanksOf(this) };

    /// <inheritdoc />
    public ModelDescription Describe() => new(Architecture, ModelArchitectures.ToJson(Options));

    /// <inheritdoc />
    public string Architecture => ArchitectureName;

    /// <inheritdoc />
    public int Bins => _options.Bins;

    /// <inheritdoc />
    public bool NormalizesInput => _options.NormalizeInput;

    /// <inheritdoc />
    public int LookaheadFrames => 0;

    /// <inheritdoc />
    public Tensor Flush(Tensor? state, long batch)
    {
        ThrowIfState(state);
        MaskShapes.CheckBatch(batch);
        return zeros(batch, 0, _options.Bins);
    }

    /// <inheritdoc />
    public void SetInputStatistics(FeatureStatistics statistics) => _io.Set(statistics, _options.Bins);

    /// <inheritdoc />
    public override Tensor forward(Tensor magnitude)
    {
        MaskShapes.Check(magnitude, _options.Bins);
        using var scope = NewDisposeScope();
        Tensor h = dropout.forward(nn.functional.relu(fc1.forward(_io.Features(magnitude))));
        h = dropout.forward(nn.functional.relu(fc2.forward(h)));
        return scope.MoveToOuter(_io.Mask(fc3.forward(h)));
    }

    /// <inheritdoc />
    public Tensor ForwardContinued(Tensor magnitude, Tensor? state, out Tensor? nextState)
    {
        ThrowIfState(state);
        nextState = null;
        return forward(magnitude);
    }

    /// <summary>
    /// This network is frame-wise: every call returns a null state, so a state passed back in is another network's (a
    /// GRU's, say), which would otherwise be ignored silently.
    /// </summary>
    private static void ThrowIfState(Tensor? state)
    {
        if (state is not null)
            throw new ArgumentException(
                $"Expected no state (null): {ArchitectureName} is frame-wise and returns none; found a tensor of shape [{string.Join("×", state.shape)}], the state of another network.",
                nameof(state));
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
}

/// <summary>Shape checks shared by the mask networks.</summary>
internal static class MaskShapes
{
    /// <summary>Throws for a negative batch size (given to <see cref="IMaskNetwork.Flush"/>), before torch rejects it natively.</summary>
    public static void CheckBatch(long batch)
    {
        if (batch < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"Expected a batch size ≥ 0; found {batch}.");
        }
    }

    public static void Check(Tensor magnitude, int bins)
    {
        ArgumentNullException.ThrowIfNull(magnitude);
        if (magnitude.dtype != ScalarType.Float32)
        {
            // The usual mistake is passing the complex STFT itself, or a float64 copy of the magnitude.
            string hint = magnitude.is_complex() ? " — pass spectrum.abs()" : magnitude.is_floating_point() ? " — convert with .to(ScalarType.Float32)" : string.Empty;
            throw new ArgumentException(
                $"Expected a real float32 magnitude (batch, frames, {bins}); found {magnitude.dtype}{hint}.", nameof(magnitude));
        }

        if (magnitude.dim() != 3 || magnitude.shape[2] != bins)
        {
            throw new ArgumentException(
                $"Expected a magnitude of shape (batch, frames, {bins}); found ({string.Join(", ", magnitude.shape)}).", nameof(magnitude));
        }
    }
}

/// <summary>Builds the linear layers of the mask networks, dense or low-rank.</summary>
internal static class MaskLayers
{
    /// <summary>The checks both mask networks' options share: sizes and the layer → rank map.</summary>
    public static List<string> ShapeAndRankErrors(int bins, int hiddenSize, IReadOnlyDictionary<string, int>? ranks, IReadOnlyList<string> layerNames)
    {
        var errors = new List<string>();
        if (bins <= 0)
        {
            errors.Add($"Bins must be > 0 (found {bins})");
        }

        if (hiddenSize <= 0)
        {
            errors.Add($"HiddenSize must be > 0 (found {hiddenSize})");
        }

        foreach ((string layer, int rank) in ranks ?? new Dictionary<string, int>())
        {
            if (!layerNames.Contains(layer) || rank <= 0)
            {
                errors.Add($"Ranks['{layer}'] = {rank}: expected a layer of [{string.Join(", ", layerNames)}] and a rank > 0");
            }
        }

        return errors;
    }

    public static void ThrowIfAny(List<string> errors, string optionsName)
    {
        if (errors.Count > 0)
        {
            throw new ArgumentException($"Invalid {optionsName}: {string.Join("; ", errors)}.");
        }
    }

    public static void AddInputOutputErrors(List<string> errors, double maskScale, MaskInput input, MaskActivation activation)
    {
        // Above 4 a mask mostly amplifies estimation errors; the phase-sensitive oracle is clipped well below that.
        if (!(maskScale >= 1 && maskScale <= 4))
        {
            errors.Add($"MaskScale must be in [1, 4] (found {maskScale})");
        }
        else if (activation == MaskActivation.Relu && maskScale != 1)
        {
            // The ReLU mask is unbounded: a scale would only multiply what the network learned, not bound it.
            errors.Add($"MaskScale must be 1 with Activation = Relu, which has no bound to scale (found {maskScale})");
        }

        if (!Enum.IsDefined(input))
        {
            errors.Add($"Input must be one of {string.Join(", ", Enum.GetNames<MaskInput>())} (found {(int)input})");
        }

        if (!Enum.IsDefined(activation))
        {
            errors.Add($"Activation must be one of {string.Join(", ", Enum.GetNames<MaskActivation>())} (found {(int)activation})");
        }
    }

    public static nn.Module<Tensor, Tensor> Linear(IReadOnlyDictionary<string, int>? ranks, string name, int inFeatures, int outFeatures) =>
        ranks is not null && ranks.TryGetValue(name, out int rank)
            ? new LowRankLinear(inFeatures, outFeatures, rank)
            : nn.Linear(inFeatures, outFeatures);

    public static IReadOnlyDictionary<string, int> RanksOf(nn.Module module) =>
        module.named_children()
            .Where(c => c.module is LowRankLinear)
            .ToDictionary(c => c.name, c => (int)((LowRankLinear)c.module).Rank, StringComparer.Ordinal);
}
