using System.Globalization;
using Dls.Audio;
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
/// At construction the weights are copied once into inference layout and the forward pass reuses per-batch-size
/// buffers instead of allocating, under <c>inference_mode</c>. Activations are kept feature-major, (features, batch):
/// each layer computes hᵀ ← W·hᵀ (or U·(V·hᵀ)) with the weights in their stored (out, in) layout. For the thin GEMMs of
/// a low-rank layer (an inner dimension of rank + 1 against 1,024 outputs) this orientation splits across intra-op
/// threads far better than the batch-major one (measured here at batch 128: 2 threads took 0.55–0.7 of one thread's
/// time feature-major, 0.9–1.1 batch-major), while a dense layer's GEMM costs the same either way. A low-rank layer
/// also carries its bias as one more inner dimension: the inner buffer (rank + 1, batch) ends in a row of ones and the
/// left factor (out, rank + 1) in the bias column, so its second GEMM writes the bias with BLAS β = 0 and no separate
/// pass over the output. Later changes to the source model are not seen.
/// </remarks>
public sealed class MnistClassifier : IDisposable
{
    private readonly Step[] steps;
    private readonly object gate = new();
    private readonly Dictionary<long, BatchBuffers> buffers = [];
    private long uses;

    /// <summary>
    /// Batch sizes whose buffers are kept; the least recently used set is freed for a new one, so a classifier serving
    /// requests of ever-new sizes holds a bounded amount of memory (a few MB per set at 1,024 hidden units).
    /// </summary>
    internal const int CachedBatchSizes = 4;

    /// <summary>Batch sizes whose buffers are held now (at most <see cref="CachedBatchSizes"/>).</summary>
    internal int CachedBufferSets
    {
        get
        {
            lock (gate)
            {
                return buffers.Count;
            }
        }
    }
    private bool disposed;

    /// <summary>
    /// One layer in inference layout: dense (<paramref name="Weight"/> (out, in), <paramref name="BiasColumn"/> (out, 1)) or
    /// low-rank (<paramref name="V"/> (rank, in), <paramref name="UBias"/> (out, rank + 1): u with the bias as last column).
    /// </summary>
    private sealed record Step(Tensor? Weight, Tensor? BiasColumn, Tensor? V, Tensor? UBias, bool Relu)
    {
        public long InFeatures => (Weight ?? V)!.shape[1];

        public long OutFeatures => (Weight ?? UBias)!.shape[0];

        public IEnumerable<Tensor> Tensors => new[] { Weight, BiasColumn, V, UBias }.OfType<Tensor>();
    }

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
        // A local scope frees the intermediate views; the kept copies are detached so no caller's scope frees them.
        using var scope = torch.NewDisposeScope();
        steps = new Step[layers.Count];
        for (int i = 0; i < layers.Count; i++)
        {
            bool relu = i < layers.Count - 1;
            steps[i] = layers[i] switch
            {
                Linear l when l.bias is not null => new Step(l.weight!.detach().contiguous().clone(), l.bias.detach().unsqueeze(1).clone(), null, null, relu),
                LowRankLinear r when r.Bias is not null => new Step(null, null, r.V.detach().contiguous().clone(),
                    torch.cat([r.U.detach(), r.Bias.detach().unsqueeze(1)], 1).contiguous(), relu),
                var other => throw new ArgumentException($"Layer {i} is a {other.GetType().Name} (or lacks a bias); expected Linear or LowRankLinear with bias.", nameof(model)),
            };
        }
        foreach (var t in steps.SelectMany(s => s.Tensors))
            t.DetachFromDisposeScope();
        // MnistMlp and LowRankMlp have one hidden width; the two shared hidden blocks rely on it.
        for (int i = 1; i < steps.Length; i++)
        {
            if (steps[i].InFeatures != steps[i - 1].OutFeatures)
                throw new ArgumentException($"Layer {i} takes {steps[i].InFeatures} features but layer {i - 1} gives {steps[i - 1].OutFeatures}.", nameof(model));
            if (i < steps.Length - 1 && steps[i].OutFeatures != steps[0].OutFeatures)
                throw new ArgumentException($"Expected every hidden layer to have {steps[0].OutFeatures} outputs (one hidden width); layer {i} has {steps[i].OutFeatures}.", nameof(model));
        }
        Features = (int)steps[0].InFeatures;
        Classes = (int)steps[^1].OutFeatures;
    }

    /// <summary>Loads a checkpoint of a MNIST network and snapshots it.</summary>
    /// <param name="path">The checkpoint's weights path.</param>
    /// <returns>The classifier.</returns>
    /// <exception cref="InvalidDataException">
    /// As <see cref="Checkpoint.Load(string)"/>, or the checkpoint holds another model than a <see cref="MnistMlp"/> or
    /// <see cref="LowRankMlp"/> (its architecture and type are named).
    /// </exception>
    public static MnistClassifier FromCheckpoint(string path)
    {
        var (model, info) = Checkpoint.Load(path);
        using (model)
        {
            // A file of another kind is a data error of the file, not an ArgumentException about a 'model' the caller never passed.
            if (model is not (MnistMlp or LowRankMlp))
                throw new InvalidDataException(
                    $"Checkpoint '{path}' holds architecture '{info.Architecture}' ({model.GetType().Name}); expected a {nameof(MnistMlp)} or {nameof(LowRankMlp)}.");
            return new MnistClassifier((Module<Tensor, Tensor>)model);
        }
    }

    /// <summary>Input features per image (784 for MNIST).</summary>
    public int Features { get; }

    /// <summary>Number of classes.</summary>
    public int Classes { get; }

    /// <summary>Logits for a batch of images.</summary>
    /// <param name="pixels">count·<see cref="Features"/> values in [0, 1], image after image.</param>
    /// <returns>count·<see cref="Classes"/> logits.</returns>
    /// <exception cref="ArgumentException">
    /// The length is not a positive multiple of <see cref="Features"/>, or a pixel is NaN or infinite (the first one is named).
    /// </exception>
    public float[] Logits(ReadOnlySpan<float> pixels)
    {
        if (pixels.Length == 0 || pixels.Length % Features != 0)
            throw new ArgumentException($"Expected a positive multiple of {Features} pixels, found {pixels.Length}.", nameof(pixels));
        // NaN logits would otherwise come back as class 0 from Predict. One compare per pixel, next to the GEMMs' thousands.
        int bad = SampleChecks.IndexOfNonFinite(pixels);
        if (bad >= 0)
            throw new ArgumentException(
                $"Expected finite pixels; found {pixels[bad].ToString(CultureInfo.InvariantCulture)} at index {bad} (image {bad / Features}, pixel {bad % Features}).",
                nameof(pixels));
        long count = pixels.Length / Features;
        using var scope = torch.NewDisposeScope();
        using var mode = torch.inference_mode();
        var x = torch.tensor(pixels.ToArray(), [count, Features]);
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            // (classes, count) feature-major → (count, classes) rows.
            return Run(x).t().contiguous().data<float>().ToArray();
        }
    }

    /// <summary>The most likely class of each image.</summary>
    /// <param name="pixels">count·<see cref="Features"/> values in [0, 1].</param>
    /// <returns>count classes.</returns>
    /// <exception cref="ArgumentException">As <see cref="Logits"/>.</exception>
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
    /// <c>torch.inference_mode()</c> or <c>torch.no_grad()</c> opened on the calling thread. Like any torch module it does
    /// not scan the values: a NaN or ±∞ pixel gives non-finite logits in its own image's row (and only there), where the
    /// caller sees them; <see cref="Logits"/> and <see cref="Predict"/>, which return plain arrays and class numbers,
    /// refuse such pixels instead. (A scan through torch here cost more than the rank-20 network's whole forward pass:
    /// 50 → 80 µs for one image in <c>bench mnist</c>.)
    /// </summary>
    /// <param name="images">(batch, <see cref="Features"/>) float32.</param>
    /// <returns>(batch, <see cref="Classes"/>) logits.</returns>
    /// <exception cref="ArgumentException">The images are not (batch, <see cref="Features"/>) float32.</exception>
    public Tensor Forward(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 2 || images.shape[1] != Features)
            throw new ArgumentException($"Expected (batch, {Features}) images, found [{string.Join("×", images.shape)}].", nameof(images));
        // The snapshot is float32; uint8 pixels straight from an IDX file would fail inside addmm with a message naming neither.
        if (images.dtype != ScalarType.Float32)
            throw new ArgumentException(
                $"Expected float32 images, found {images.dtype}; convert them with images.to(ScalarType.Float32)" +
                (images.dtype == ScalarType.Byte ? " and divide uint8 pixels by 255 (MnistTensors.From does both)." : "."),
                nameof(images));
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            // A fresh (batch, classes) tensor; never a view of the cached (classes, batch) buffer.
            var logits = torch.empty(images.shape[0], Classes);
            using var rows = Run(images).t();
            return logits.copy_(rows);
        }
    }

    /// <summary>
    /// Runs the layers into the cached buffers of this batch size; returns the cached (classes, batch) logits buffer.
    /// </summary>
    private Tensor Run(Tensor x)
    {
        long batch = x.shape[0];
        if (!buffers.TryGetValue(batch, out var buf))
        {
            if (buffers.Count >= CachedBatchSizes)
            {
                // Under the gate, and every result is copied out before it is released: no caller holds these buffers.
                var oldest = buffers.MinBy(b => b.Value.LastUse);
                oldest.Value.Dispose();
                buffers.Remove(oldest.Key);
            }

            // Made outside inference mode: tensors made inside it may not be written outside it, and Forward may run
            // under no_grad only; ordinary tensors may be written in place under either.
            using (torch.inference_mode(false))
            {
                buf = new BatchBuffers(steps, batch);
            }

            buffers[batch] = buf;
        }

        buf.LastUse = ++uses;
        // (features, batch) view of the (batch, features) input: BLAS reads it as a transposed operand, no copy.
        using var input = x.t();
        Tensor h = input;
        for (int i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            // Hidden layers write the two hidden blocks in turn (layer i writes i mod 2, reads the other), so the
            // working set stays at two (hidden, batch) blocks whatever the depth.
            var output = i == steps.Length - 1 ? buf.Logits : buf.Hidden[i % 2];
            if (step.Weight is not null)
            {
                // Bias broadcast along the batch, then output += W·hᵀ in place (BLAS β = 1).
                output.copy_(step.BiasColumn!);
                output.addmm_(step.Weight, h, beta: 1, alpha: 1);
            }
            else
            {
                // inner = [v·hᵀ; 1] (the ones row was set at allocation), output = [u, bias]·inner.
                var (inner, innerRank) = buf.Inner[i]!.Value;
                innerRank.addmm_(step.V!, h, beta: 0, alpha: 1);
                output.addmm_(step.UBias!, inner, beta: 0, alpha: 1);
            }
            if (step.Relu) output.relu_();
            h = output;
        }
        return h;
    }

    /// <summary>
    /// The buffers of one batch size, outside any caller's dispose scope; they live until the classifier is disposed or
    /// the set is the least recently used of <see cref="CachedBatchSizes"/>.
    /// </summary>
    private sealed class BatchBuffers : IDisposable
    {
        /// <summary>When the set was last used (a counter of runs).</summary>
        public long LastUse { get; set; }

        public BatchBuffers(Step[] steps, long batch)
        {
            Logits = torch.empty(steps[^1].OutFeatures, batch).DetachFromDisposeScope();
            long hidden = steps[0].OutFeatures;
            Hidden = [torch.empty(hidden, batch).DetachFromDisposeScope(), torch.empty(hidden, batch).DetachFromDisposeScope()];
            Inner = new (Tensor, Tensor)?[steps.Length];
            for (int i = 0; i < steps.Length; i++)
            {
                if (steps[i].V is not { } v) continue;
                // (rank + 1, batch) of ones: the first GEMM overwrites the (rank, batch) rows above the last one.
                var inner = torch.ones(v.shape[0] + 1, batch).DetachFromDisposeScope();
                Inner[i] = (inner, inner.narrow(0, 0, v.shape[0]).DetachFromDisposeScope());
            }
        }

        /// <summary>(classes, batch).</summary>
        public Tensor Logits { get; }

        /// <summary>Two (hidden, batch) blocks.</summary>
        public Tensor[] Hidden { get; }

        /// <summary>Per layer: the (rank + 1, batch) inner buffer and its (rank, batch) view; null for dense layers.</summary>
        public (Tensor Full, Tensor Rank)?[] Inner { get; }

        public void Dispose()
        {
            Logits.Dispose();
            foreach (var t in Hidden) t.Dispose();
            foreach (var pair in Inner)
            {
                pair?.Rank.Dispose();
                pair?.Full.Dispose();
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (gate)
        {
            if (disposed) return;
            disposed = true;
            foreach (var t in steps.SelectMany(s => s.Tensors))
                t.Dispose();
            foreach (var set in buffers.Values)
                set.Dispose();
            buffers.Clear();
        }
    }
}
