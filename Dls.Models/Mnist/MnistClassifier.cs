using Dls.Compression.LowRank;
using Dls.Models.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dls.Models.Mnist;

/// <summary>
/// The inference façade of the MNIST networks (<see cref="MnistMlp"/>, <see cref="LowRankMlp"/>, or a compressed
/// <see cref="MnistMlp"/>): plain arrays in, logits or classes out; safe to call from many threads.
/// </summary>
/// <remarks>
/// At construction the weights are copied once into inference layout — contiguous and pre-transposed, so each layer
/// is one or two plain GEMMs with the bias folded in (<c>addmm</c>) and an in-place ReLU — and the forward pass
/// reuses per-batch-size output buffers instead of allocating, under <c>inference_mode</c>. Later changes to the
/// source model are not seen.
/// </remarks>
public sealed class MnistClassifier : IDisposable
{
    private readonly Step[] steps;
    private readonly object gate = new();
    private readonly Dictionary<long, Tensor[]> buffers = [];
    private bool disposed;

    private sealed record Step(Tensor? DenseT, Tensor? VT, Tensor? UT, Tensor Bias, bool Relu);

    /// <summary>Snapshots a trained network.</summary>
    /// <param name="model">A <see cref="MnistMlp"/> (possibly compressed) or <see cref="LowRankMlp"/>.</param>
    /// <exception cref="ArgumentException">The model is of another kind, or has a layer type other than Linear/LowRankLinear.</exception>
    public MnistClassifier(Module<Tensor, Tensor> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var layers = model switch
        {
            MnistMlp mlp => mlp.Layers,
            LowRankMlp lowRank => lowRank.Layers,
            _ => throw new ArgumentException($"Expected a MnistMlp or LowRankMlp, found {model.GetType().Name}.", nameof(model)),
        };
        using var noGrad = torch.no_grad();
        // A local scope frees the transposed views; the kept copies are detached so no caller's scope frees them.
        using var scope = torch.NewDisposeScope();
        steps = new Step[layers.Count];
        for (int i = 0; i < layers.Count; i++)
        {
            bool relu = i < layers.Count - 1;
            steps[i] = layers[i] switch
            {
                Linear l when l.bias is not null => new Step(l.weight!.detach().t().contiguous(), null, null, l.bias.detach().clone(), relu),
                LowRankLinear r when r.Bias is not null => new Step(null, r.V.detach().t().contiguous(), r.U.detach().t().contiguous(), r.Bias.detach().clone(), relu),
                var other => throw new ArgumentException($"Layer {i} is a {other.GetType().Name} (or lacks a bias); expected Linear or LowRankLinear with bias.", nameof(model)),
            };
        }
        foreach (var s in steps)
        {
            s.DenseT?.DetachFromDisposeScope();
            s.VT?.DetachFromDisposeScope();
            s.UT?.DetachFromDisposeScope();
            s.Bias.DetachFromDisposeScope();
        }
        Features = (int)(steps[0].DenseT ?? steps[0].VT)!.shape[0];
        Classes = (int)steps[^1].Bias.shape[0];
    }

    /// <summary>Loads a checkpoint of a MNIST network and snapshots it.</summary>
    /// <param name="path">The checkpoint's weights path.</param>
    /// <returns>The classifier.</returns>
    public static MnistClassifier FromCheckpoint(string path)
    {
        var (model, _) = Checkpoint.Load(path);
        using (model)
        {
            return new MnistClassifier(model as Module<Tensor, Tensor>
                ?? throw new InvalidDataException($"Checkpoint '{path}' does not hold a classifier."));
        }
    }

    /// <summary>Input features per image (784 for MNIST).</summary>
    public int Features { get; }

    /// <summary>Number of classes.</summary>
    public int Classes { get; }

    /// <summary>Logits for a batch of images.</summary>
    /// <param name="pixels">count·<see cref="Features"/> values in [0, 1], image after image.</param>
    /// <returns>count·<see cref="Classes"/> logits.</returns>
    /// <exception cref="ArgumentException">The length is not a positive multiple of <see cref="Features"/>.</exception>
    public float[] Logits(ReadOnlySpan<float> pixels)
    {
        if (pixels.Length == 0 || pixels.Length % Features != 0)
            throw new ArgumentException($"Expected a positive multiple of {Features} pixels, found {pixels.Length}.", nameof(pixels));
        long count = pixels.Length / Features;
        using var scope = torch.NewDisposeScope();
        using var mode = torch.inference_mode();
        var x = torch.tensor(pixels.ToArray(), [count, Features]);
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return Run(x).data<float>().ToArray();
        }
    }

    /// <summary>The most likely class of each image.</summary>
    /// <param name="pixels">count·<see cref="Features"/> values in [0, 1].</param>
    /// <returns>count classes.</returns>
    public int[] Predict(ReadOnlySpan<float> pixels)
    {
        float[] logits = Logits(pixels);
        var classes = new int[logits.Length / Classes];
        for (int i = 0; i < classes.Length; i++)
        {
            var row = logits.AsSpan(i * Classes, Classes);
            int best = 0;
            for (int c = 1; c < row.Length; c++) if (row[c] > row[best]) best = c;
            classes[i] = best;
        }
        return classes;
    }

    /// <summary>
    /// The tensor-level fast path: logits for (batch, features) images. The result is a new tensor; call it under
    /// <c>torch.inference_mode()</c> or <c>torch.no_grad()</c> opened on the calling thread.
    /// </summary>
    /// <param name="images">(batch, <see cref="Features"/>) float32.</param>
    /// <returns>(batch, <see cref="Classes"/>) logits.</returns>
    public Tensor Forward(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 2 || images.shape[1] != Features)
            throw new ArgumentException($"Expected (batch, {Features}) images, found [{string.Join("×", images.shape)}].", nameof(images));
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return Run(images).clone();
        }
    }

    /// <summary>Runs the layers into the cached buffers of this batch size; the returned tensor is a cached buffer.</summary>
    private Tensor Run(Tensor x)
    {
        long batch = x.shape[0];
        if (!buffers.TryGetValue(batch, out var buf))
        {
            buf = AllocateBuffers(batch);
            buffers[batch] = buf;
        }
        Tensor h = x;
        int b = 0;
        foreach (var step in steps)
        {
            var output = buf[b++];
            // Bias broadcast into the output, then output += h·Wᵀ in place (BLAS beta = 1): no allocation per call.
            output.copy_(step.Bias);
            if (step.DenseT is not null)
            {
                output.addmm_(h, step.DenseT, beta: 1, alpha: 1);
            }
            else
            {
                var inner = buf[b++];
                inner.addmm_(h, step.VT!, beta: 0, alpha: 1);
                output.addmm_(inner, step.UT!, beta: 1, alpha: 1);
            }
            if (step.Relu) output.relu_();
            h = output;
        }
        return h;
    }

    private Tensor[] AllocateBuffers(long batch)
    {
        var list = new List<Tensor>();
        foreach (var step in steps)
        {
            list.Add(torch.empty(batch, step.Bias.shape[0]));
            if (step.DenseT is null) list.Add(torch.zeros(batch, step.VT!.shape[1]));
        }
        // Buffers live as long as the classifier, outside any caller's dispose scope.
        foreach (var t in list) t.DetachFromDisposeScope();
        return [.. list];
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (gate)
        {
            if (disposed) return;
            disposed = true;
            foreach (var s in steps)
            {
                s.DenseT?.Dispose();
                s.VT?.Dispose();
                s.UT?.Dispose();
                s.Bias.Dispose();
            }
            foreach (var set in buffers.Values)
                foreach (var t in set) t.Dispose();
            buffers.Clear();
        }
    }
}
