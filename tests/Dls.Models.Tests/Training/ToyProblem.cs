using Dls.Models.Training;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dls.Models.Tests.Training;

/// <summary>A linearly separable 2-class problem on 4 features: 256 training and 64 validation samples.</summary>
internal sealed class ToyProblem : ITrainingProblem<(Tensor X, Tensor Y)>, IDisposable
{
    private readonly Tensor trainX, trainY, validX, validY;
    public int BatchSize { get; init; } = 32;
    public int BatchesEnumerated { get; private set; }

    public ToyProblem(int seed = 1)
    {
        var g = new Generator((ulong)seed);
        using var w = torch.tensor(new float[] { 1.5f, -2f, 0.5f, 1f });
        trainX = torch.randn([256, 4], generator: g);
        trainY = trainX.matmul(w).gt(0).to(ScalarType.Int64);
        validX = torch.randn([64, 4], generator: g);
        validY = validX.matmul(w).gt(0).to(ScalarType.Int64);
    }

    public IEnumerable<(Tensor X, Tensor Y)> TrainBatches(int epoch, Random rng)
    {
        int n = (int)trainX.shape[0];
        var order = Enumerable.Range(0, n).ToArray();
        rng.Shuffle(order);
        for (int start = 0; start < n; start += BatchSize)
        {
            var idx = torch.tensor(order.Skip(start).Take(BatchSize).Select(i => (long)i).ToArray());
            BatchesEnumerated++;
            yield return (trainX.index_select(0, idx), trainY.index_select(0, idx));
        }
    }

    public Tensor Loss(Module model, (Tensor X, Tensor Y) batch)
        => functional.cross_entropy(((Module<Tensor, Tensor>)model).call(batch.X), batch.Y);

    public long CountSamples((Tensor X, Tensor Y) batch) => batch.X.shape[0];

    public IReadOnlyDictionary<string, double> Validate(Module model, CancellationToken cancellationToken)
    {
        var logits = ((Module<Tensor, Tensor>)model).call(validX);
        double loss = functional.cross_entropy(logits, validY).item<float>();
        double acc = logits.argmax(1).eq(validY).to(ScalarType.Float64).mean().item<double>();
        return new Dictionary<string, double> { ["val_loss"] = loss, ["val_acc"] = acc };
    }

    public void Dispose()
    {
        trainX.Dispose(); trainY.Dispose(); validX.Dispose(); validY.Dispose();
    }
}

/// <summary>A tiny classifier that describes itself for checkpoints.</summary>
internal sealed class ToyNet : Module<Tensor, Tensor>, Dls.Models.Checkpoints.IDescribedModel
{
    public sealed record Options(int Hidden = 8);
    private readonly Module<Tensor, Tensor> fc1;
    private readonly Module<Tensor, Tensor> fc2;
    public Options Shape { get; }

    static ToyNet() => Dls.Models.Checkpoints.ModelArchitectures.Register<Options>("test-toy-net", o => new ToyNet(o));

    public ToyNet(Options? options = null) : base(nameof(ToyNet))
    {
        Shape = options ?? new Options();
        fc1 = Linear(4, Shape.Hidden);
        fc2 = Linear(Shape.Hidden, 2);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var h = fc1.call(input);
        using var r = h.relu();
        return fc2.call(r);
    }

    public Dls.Models.Checkpoints.ModelDescription Describe()
        => new("test-toy-net", Dls.Models.Checkpoints.ModelArchitectures.ToJson(Shape));
}
