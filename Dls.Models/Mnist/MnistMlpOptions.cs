namespace Dls.Models.Mnist;

/// <summary>Shape of <see cref="MnistMlp"/>: input → hidden × layers → classes, ReLU and dropout after each hidden layer.</summary>
public sealed record MnistMlpOptions
{
    /// <summary>Input features (28×28 pixels). Default 784.</summary>
    public int InputSize { get; init; } = 784;

    /// <summary>Width of every hidden layer. Default 1024.</summary>
    public int HiddenSize { get; init; } = 1024;

    /// <summary>Number of hidden layers. Default 5.</summary>
    public int HiddenLayers { get; init; } = 5;

    /// <summary>Output classes. Default 10.</summary>
    public int Classes { get; init; } = 10;

    /// <summary>Dropout probability after each hidden layer (training only). Default 0.2.</summary>
    public double Dropout { get; init; } = 0.2;

    /// <summary>Every problem, one message per problem naming the field; empty when valid.</summary>
    /// <returns>The problems.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (InputSize < 1) errors.Add($"{nameof(InputSize)} must be at least 1, got {InputSize}.");
        if (HiddenSize < 1) errors.Add($"{nameof(HiddenSize)} must be at least 1, got {HiddenSize}.");
        if (HiddenLayers < 1) errors.Add($"{nameof(HiddenLayers)} must be at least 1, got {HiddenLayers}.");
        if (Classes < 2) errors.Add($"{nameof(Classes)} must be at least 2, got {Classes}.");
        if (!(Dropout >= 0 && Dropout < 1)) errors.Add($"{nameof(Dropout)} must be in [0, 1), got {Dropout}.");
        return errors;
    }

    internal void ThrowIfInvalid(string what)
    {
        var errors = Validate();
        if (errors.Count > 0) throw new ArgumentException($"Invalid {what}: " + string.Join(" ", errors));
    }
}

/// <summary>Shape of <see cref="LowRankMlp"/>: the <see cref="MnistMlp"/> shape with factorized layers.</summary>
public sealed record LowRankMlpOptions
{
    /// <summary>The dense shape. Default: the 784→1024×5→10 network.</summary>
    public MnistMlpOptions Shape { get; init; } = new();

    /// <summary>
    /// Rank of every factorized layer, at least 1. Default 20. Ranks above a layer's min(in, out) are allowed (a layer
    /// trained from random initialisation may be given any rank) but only enlarge it: such a layer holds more weights than
    /// a rank of min(in, out), which already represents every in×out matrix. <see cref="LowRankMlp.FromDense(MnistMlp, int, bool)"/>
    /// refuses them, since the SVD has no directions to fill them with.
    /// </summary>
    public int Rank { get; init; } = 20;

    /// <summary>
    /// Also factorize the output layer. Default false: at rank 20 the 1024→10 layer would need 20·1034 = 20,680
    /// weights against 10,240 dense, so it stays dense (215,370 parameters in total; 225,810 when forced).
    /// </summary>
    public bool FactorizeOutput { get; init; }

    /// <summary>Every problem, one message per problem naming the field; empty when valid.</summary>
    /// <returns>The problems.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Shape is null) errors.Add($"{nameof(Shape)} must not be null.");
        else errors.AddRange(Shape.Validate().Select(e => $"{nameof(Shape)}.{e}"));
        if (Rank < 1) errors.Add($"{nameof(Rank)} must be at least 1, got {Rank}.");
        return errors;
    }
}
