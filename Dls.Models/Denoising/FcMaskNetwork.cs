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
    /// <summary>Throws when a value is out of range, naming every bad field.</summary>
    public void Validate()
    {
        var errors = new List<string>();
        if (Bins <= 0)
        {
            errors.Add($"Bins must be > 0 (found {Bins})");
        }

        if (HiddenSize <= 0)
        {
            errors.Add($"HiddenSize must be > 0 (found {HiddenSize})");
        }

        if (Dropout is < 0 or >= 1 || double.IsNaN(Dropout))
        {
            errors.Add($"Dropout must be in [0, 1) (found {Dropout})");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException($"Invalid {nameof(FcMaskNetworkOptions)}: {string.Join("; ", errors)}.");
        }
    }
}

/// <summary>
/// The assignment's network: every frame on its own, <c>log1p</c> magnitude (see <see cref="MaskFeatures"/>) →
/// fc1 (bins→hidden, ReLU) → fc2 (hidden→hidden, ReLU) → fc3 (hidden→bins, sigmoid) = mask.
/// </summary>
public sealed class FcMaskNetwork : nn.Module<Tensor, Tensor>, IMaskNetwork
{
    /// <summary>The architecture name in checkpoints.</summary>
    public const string ArchitectureName = "fc-mask";

    private readonly nn.Module<Tensor, Tensor> fc1;
    private readonly nn.Module<Tensor, Tensor> fc2;
    private readonly nn.Module<Tensor, Tensor> fc3;
    private readonly Dropout dropout;

    /// <summary>Creates the network with freshly initialised weights.</summary>
    /// <param name="options">Hyper-parameters (defaults when <c>null</c>).</param>
    public FcMaskNetwork(FcMaskNetworkOptions? options = null)
        : base(nameof(FcMaskNetwork))
    {
        Options = options ?? new FcMaskNetworkOptions();
        Options.Validate();
        fc1 = nn.Linear(Options.Bins, Options.HiddenSize);
        fc2 = nn.Linear(Options.HiddenSize, Options.HiddenSize);
        fc3 = nn.Linear(Options.HiddenSize, Options.Bins);
        dropout = nn.Dropout(Options.Dropout);
        RegisterComponents();
    }

    /// <summary>The hyper-parameters.</summary>
    public FcMaskNetworkOptions Options { get; }

    /// <inheritdoc />
    public string Architecture => ArchitectureName;

    /// <inheritdoc />
    public int Bins => Options.Bins;

    /// <inheritdoc />
    public override Tensor forward(Tensor magnitude)
    {
        MaskShapes.Check(magnitude, Options.Bins);
        using var scope = NewDisposeScope();
        Tensor h = dropout.forward(nn.functional.relu(fc1.forward(MaskFeatures.Scale(magnitude))));
        h = dropout.forward(nn.functional.relu(fc2.forward(h)));
        return scope.MoveToOuter(nn.functional.sigmoid(fc3.forward(h)));
    }

    /// <inheritdoc />
    public Tensor ForwardContinued(Tensor magnitude, Tensor? state, out Tensor? nextState)
    {
        nextState = null;
        return forward(magnitude);
    }
}

/// <summary>Shape checks shared by the mask networks.</summary>
internal static class MaskShapes
{
    public static void Check(Tensor magnitude, int bins)
    {
        ArgumentNullException.ThrowIfNull(magnitude);
        if (magnitude.dim() != 3 || magnitude.shape[2] != bins)
        {
            throw new ArgumentException(
                $"Expected a magnitude of shape (batch, frames, {bins}); found ({string.Join(", ", magnitude.shape)}).", nameof(magnitude));
        }
    }
}
