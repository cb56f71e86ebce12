using System.Runtime.InteropServices;
using Dls.Compression.LowRank;
using Dls.Compression.Modules;
using Dls.Models.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Dls.Speaker.Encoders;

/// <summary>
/// The assignment's speaker encoder: per-bin input normalization → (optional low-rank input projection) →
/// bidirectional GRU (hidden <see cref="GruSpeakerEncoderOptions.HiddenSize"/> per direction) → mean over the valid
/// frames → fully connected 2·hidden → embedding → L2 normalization.
/// </summary>
/// <remarks>
/// Variable-length batches are packed (<c>pack_padded_sequence</c>), so the backward direction starts at each
/// utterance's own last frame and padding never enters the recurrence or the mean: an utterance's embedding does not
/// depend on what it is batched with. State-dict keys follow the PyTorch reference
/// (<c>gru.weight_ih_l0</c>, <c>gru.weight_ih_l0_reverse</c>, <c>fc.weight</c> …).
/// </remarks>
public sealed class GruSpeakerEncoder : nn.Module<Tensor, Tensor, Tensor>, IDescribedModel
{
    /// <summary>The architecture name in checkpoints.</summary>
    public const string ArchitectureName = "gru-speaker-encoder";

    private readonly Parameter input_mean;
    private readonly Parameter input_scale;
    private readonly Linear? proj;
    private readonly GRU gru;
    private readonly nn.Module<Tensor, Tensor> fc;

    /// <summary>Creates an encoder with freshly initialized weights.</summary>
    /// <exception cref="ArgumentException">The options are invalid (every problem is listed).</exception>
    public GruSpeakerEncoder(GruSpeakerEncoderOptions options) : base(nameof(GruSpeakerEncoder))
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid GruSpeakerEncoderOptions: " + string.Join(" ", errors), nameof(options));
        _options = options;
        // Feature statistics are parameters without gradient (not buffers) so every checkpoint path that saves
        // parameters keeps them; SetInputNormalization fills them from training data.
        input_mean = new Parameter(zeros(options.InputSize), requires_grad: false);
        input_scale = new Parameter(ones(options.InputSize), requires_grad: false);
        int gruInput = options.InputSize;
        if (options.InputProjectionRank > 0)
        {
            proj = nn.Linear(options.InputSize, options.InputProjectionRank, hasBias: false);
            gruInput = options.InputProjectionRank;
        }
        gru = nn.GRU(gruInput, options.HiddenSize, batchFirst: true, bidirectional: true);
        // Held as Module<Tensor, Tensor> so ModelCompressor can swap the dense layer for a LowRankLinear (keys fc.u, fc.v, fc.bias).
        fc = options.OutputRank > 0
            ? new LowRankLinear(2 * options.HiddenSize, options.EmbeddingSize, options.OutputRank)
            : nn.Linear(2 * options.HiddenSize, options.EmbeddingSize);
        RegisterComponents();
        this.DetachStateFromDisposeScopes();
    }

    private readonly GruSpeakerEncoderOptions _options;

    /// <summary>
    /// The hyper-parameters of the encoder as it is now (a compressor may have replaced <c>fc</c> by a low-rank layer
    /// since construction; <see cref="GruSpeakerEncoderOptions.OutputRank"/> follows it).
    /// </summary>
    public GruSpeakerEncoderOptions Options => _options with { OutputRank = fc is LowRankLinear lowRank ? (int)lowRank.Rank : 0 };

    /// <inheritdoc />
    public ModelDescription Describe() => new(ArchitectureName, ModelArchitectures.ToJson(Options));

    /// <summary>
    /// Sets the per-bin input normalization x' = (x − mean) · scale, typically mean and 1/std of the training features.
    /// </summary>
    /// <param name="mean">Shape (InputSize), finite.</param>
    /// <param name="scale">Shape (InputSize), finite.</param>
    /// <exception cref="ArgumentException">Another shape, or a NaN or ∞ value (the message gives its index, the bin).</exception>
    public void SetInputNormalization(Tensor mean, Tensor scale)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(scale);
        if (mean.shape.Length != 1 || mean.shape[0] != Options.InputSize || scale.shape.Length != 1 || scale.shape[0] != Options.InputSize)
            throw new ArgumentException($"Expected mean and scale of shape ({Options.InputSize}), found ({string.Join(", ", mean.shape)}) and ({string.Join(", ", scale.shape)}).");
        // One NaN or ∞ here reaches every frame of every later input through the GRU, so every embedding would be NaN.
        // The scale multiplies (it is 1/std, not std), so zero or negative values give finite outputs and are left alone.
        TensorChecks.ThrowIfNonFinite(mean, nameof(mean));
        TensorChecks.ThrowIfNonFinite(scale, nameof(scale));
        using var _ = no_grad();
        input_mean.copy_(mean);
        input_scale.copy_(scale);
    }

    /// <summary>Embeds a batch of utterances.</summary>
    /// <param name="features">Shape (batch ≥ 1, frames, InputSize), of the encoder's dtype (float32 unless converted),
    /// zero- or otherwise padded after each utterance's length.</param>
    /// <param name="lengths">Shape (batch), an integer dtype (int64 usual), valid frames per utterance, each in [1, frames].</param>
    /// <returns>Shape (batch, EmbeddingSize), unit L2 norm per row.</returns>
    /// <exception cref="ArgumentException">A shape, dtype or length outside these (the message gives what was found).</exception>
    public override Tensor forward(Tensor features, Tensor lengths)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(lengths);
        if (features.dim() != 3 || features.shape[2] != _options.InputSize)
            throw new ArgumentException($"Expected features of shape (batch, frames, {_options.InputSize}), found ({string.Join(", ", features.shape)}).", nameof(features));
        // min()/max() of the lengths below fail natively on an empty batch.
        if (features.shape[0] == 0)
            throw new ArgumentException($"Expected at least one utterance in features (batch, frames, {_options.InputSize}), found ({string.Join(", ", features.shape)}).", nameof(features));
        // Checked here because libtorch's own message ("mat1 and mat2 must have the same dtype") names neither argument.
        if (features.dtype != input_mean.dtype)
            throw new ArgumentException($"Expected features of dtype {input_mean.dtype} (the encoder's parameters), found {features.dtype}.", nameof(features));
        if (lengths.dim() != 1 || lengths.shape[0] != features.shape[0])
            throw new ArgumentException($"Expected lengths of shape ({features.shape[0]}), found ({string.Join(", ", lengths.shape)}).", nameof(lengths));
        // Float lengths would be truncated by the int64 conversion below (2.7 frames → 2) without a word.
        if (lengths.dtype is not (ScalarType.Int64 or ScalarType.Int32 or ScalarType.Int16 or ScalarType.Int8 or ScalarType.Byte))
            throw new ArgumentException($"Expected lengths of an integer dtype (int64), found {lengths.dtype}.", nameof(lengths));
        using var scope = NewDisposeScope();
        var x = features.add(input_mean, Scalars.MinusOne).mul(input_scale);
        if (proj is not null) x = proj.forward(x);

        long frames = features.shape[1];
        var cpuLengths = lengths.to(ScalarType.Int64, CPU);
        long minLength = cpuLengths.min().item<long>();
        long maxLength = cpuLengths.max().item<long>();
        if (minLength < 1 || maxLength > frames)
            throw new ArgumentException($"Expected every length in [1, {frames}], found [{minLength}, {maxLength}].", nameof(lengths));

        Tensor pooled;
        if (minLength == frames)
        {
            // Every utterance fills the batch: no packing needed (the common inference case).
            if (UsesManagedRecurrence(x))
            {
                pooled = PooledSingle(x.squeeze(0));
            }
            else
            {
                var (output, _) = gru.call(x, null);
                pooled = output.mean([1]);
            }
        }
        else
        {
            using var packed = nn.utils.rnn.pack_padded_sequence(x, cpuLengths, batch_first: true, enforce_sorted: false);
            var (packedOutput, _) = gru.call(packed, null);
            using (packedOutput)
            {
                // Padded positions come back as zeros, so the sum over time is the sum over valid frames.
                var (padded, _) = nn.utils.rnn.pad_packed_sequence(packedOutput, batch_first: true);
                pooled = padded.sum(1) / cpuLengths.to(padded.dtype, padded.device).unsqueeze(1);
            }
        }
        var embedding = nn.functional.normalize(fc.forward(pooled), p: 2, dim: 1);
        return scope.MoveToOuter(embedding);
    }

    /// <summary>
    /// Whether single-utterance inference runs the recurrence in managed SIMD code (<see cref="GruRecurrence"/>)
    /// instead of libtorch's GRU: <c>null</c> (the default) where the CPU runs 256-bit vectors in hardware, <c>true</c>
    /// always, <c>false</c> never. It is taken only for one utterance in eval mode under <c>no_grad</c> on the CPU,
    /// where torch's per-step overhead dominates; tests set it to compare the two paths.
    /// </summary>
    internal bool? ManagedRecurrence { get; set; }

    private bool UsesManagedRecurrence(Tensor x) =>
        (ManagedRecurrence ?? GruRecurrence.IsAccelerated) && !training && !is_grad_enabled() && x.shape[0] == 1
        && x.device_type == DeviceType.CPU && x.dtype == ScalarType.Float32;

    /// <summary>
    /// The mean over frames of the bidirectional GRU's output for one utterance: input projections of every frame in
    /// one torch product per direction, then each direction's recurrence on its own thread.
    /// </summary>
    /// <param name="x">(frames, GRU input size), float32 on the CPU.</param>
    /// <returns>(1, 2·hidden): forward half, then backward half, as torch's GRU output orders them.</returns>
    private Tensor PooledSingle(Tensor x)
    {
        int hidden = _options.HiddenSize;
        // torch's own memory (64-byte aligned), written in place. A tensor made over a managed array instead let the
        // array's address decide the last bit of the embedding: some of libtorch's CPU products sum in an order that
        // depends on the input's address modulo 16 bytes (measured with linear: the test encoder's 16 → 6 layer, one
        // row of 1,024 → 10, two or three rows of 784 → 1,024), and a managed float[] starts at 0 or 8 modulo 16
        // depending on what was allocated before it. Logged with that version: arrays at 0 mod 16 gave one embedding,
        // 13 of 14 at 8 mod 16 another in the last bit; concurrent calls just allocated differently than serial ones.
        var pooled = empty(1, 2 * hidden, dtype: ScalarType.Float32);
        var directions = new[] { "", "_reverse" }.Select(suffix => (
            Gates: nn.functional.linear(x, Weight("weight_ih_l0" + suffix), Weight("bias_ih_l0" + suffix)).contiguous(),
            Weight: Weight("weight_hh_l0" + suffix).contiguous(),
            Bias: Weight("bias_hh_l0" + suffix).contiguous())).ToArray();
        Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, d =>
            GruRecurrence.MeanHiddenState(Floats(directions[d].Gates), Floats(directions[d].Weight), Floats(directions[d].Bias),
                reverse: d == 1, MemoryMarshal.Cast<byte, float>(pooled.bytes).Slice(d * hidden, hidden)));
        return pooled;
    }

    private Tensor Weight(string name) =>
        gru.get_parameter(name) ?? throw new InvalidOperationException($"The GRU has no parameter '{name}' (expected a one-layer bidirectional GRU with biases).");

    /// <summary>A contiguous CPU float tensor's memory as floats, without a copy.</summary>
    private static ReadOnlySpan<float> Floats(Tensor t) => MemoryMarshal.Cast<byte, float>(t.bytes);
}
