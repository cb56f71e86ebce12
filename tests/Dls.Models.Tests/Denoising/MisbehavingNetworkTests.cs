using Dls.Audio.IO;
using Dls.Models.Denoising;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Tests.Denoising;

/// <summary>
/// A user's own <see cref="IMaskNetwork"/> that misbehaves part-way through: the denoiser names it and its mistake, a
/// stream refuses every call after the failed one (its output would have a gap), and no file is left behind.
/// </summary>
public sealed class MisbehavingNetworkTests
{
    private static float[] Noisy(int length) => DenoisingFixtures.Add(DenoisingFixtures.Tone(length), DenoisingFixtures.Noise(length));

    /// <summary>
    /// A tiny GRU mask network whose <c>failAt</c>-th <see cref="IMaskNetwork.ForwardContinued"/> call (or, with
    /// <c>badFlush</c>, whose <see cref="IMaskNetwork.Flush"/>; with <c>badForward</c>, whose whole-sequence
    /// <c>forward</c>, the one training calls) returns only the first bin of each frame's mask: a shape
    /// torch would broadcast against the batch's spectra without complaint, scaling every bin of a frame by one gain.
    /// </summary>
    private sealed class OneBinMaskNetwork : nn.Module<Tensor, Tensor>, IMaskNetwork
    {
        private readonly IMaskNetwork _inner;
        private readonly int _failAt;
        private readonly bool _badFlush;
        private readonly bool _badForward;
        private int _calls;

        public OneBinMaskNetwork(IMaskNetwork inner, int failAt, bool badFlush = false, bool badForward = false)
            : base("one-bin-mask")
        {
            _inner = inner;
            _failAt = failAt;
            _badFlush = badFlush;
            _badForward = badForward;
            register_module("inner", (nn.Module)inner);
        }

        public string Architecture => "one-bin-mask";

        public int Bins => _inner.Bins;

        public int LookaheadFrames => _inner.LookaheadFrames;

        public bool NormalizesInput => false;

        public void SetInputStatistics(FeatureStatistics statistics) => throw new InvalidOperationException("not used");

        public override Tensor forward(Tensor magnitude)
        {
            Tensor mask = _inner.forward(magnitude);
            return _badForward ? mask.narrow(2, 0, 1) : mask;
        }

        public Tensor ForwardContinued(Tensor magnitude, Tensor? state, out Tensor? nextState)
        {
            Tensor mask = _inner.ForwardContinued(magnitude, state, out nextState);
            return ++_calls == _failAt ? mask.narrow(2, 0, 1) : mask;
        }

        public Tensor Flush(Tensor? state, long batch)
        {
            Tensor mask = _inner.Flush(state, batch);
            return _badFlush ? mask.narrow(2, 0, 1) : mask;
        }
    }

    [Fact]
    public void Denoise_MaskOfOneBinOnTheSecondBatch_ThrowsNamingTheNetworkAndBothShapes()
    {
        // Batches of 3 frames: the second ForwardContinued call is the one that returns a single bin.
        using var denoiser = new Denoiser(new OneBinMaskNetwork(DenoisingFixtures.TinyGru(), failAt: 2), maxFramesPerBatch: 3);

        var e = Assert.Throws<InvalidOperationException>(() => denoiser.Denoise(Noisy(8000), DenoisingFixtures.Rate));

        Assert.Contains("Expected OneBinMaskNetwork ('one-bin-mask').ForwardContinued to return a mask of shape [1, 3, 513] (batch, frames, bins); found [1, 3, 1]", e.Message);
    }

    [Fact]
    public void Denoise_LookaheadNetworkFlushingOneBin_ThrowsNamingFlush()
    {
        // Lookahead 2: the last two frames' masks come from Flush, which returns one bin.
        using var denoiser = new Denoiser(new OneBinMaskNetwork(DenoisingFixtures.TinyLookaheadGru(2), failAt: 0, badFlush: true));

        var e = Assert.Throws<InvalidOperationException>(() => denoiser.Denoise(Noisy(8000), DenoisingFixtures.Rate));

        Assert.Contains("('one-bin-mask').Flush to return a mask of shape [1, 2, 513] (batch, frames, bins); found [1, 2, 1]", e.Message);
    }

    [Fact]
    public void Stream_NetworkFailsOnTheSecondBlock_ThatCallThrowsAndEveryLaterOneRefuses()
    {
        using var denoiser = new Denoiser(new OneBinMaskNetwork(DenoisingFixtures.TinyGru(), failAt: 2), maxFramesPerBatch: 3);
        float[] input = Noisy(4800);
        using IStreamingDenoiser stream = denoiser.CreateStream();

        // 1,600 samples make frames 0–2 ready: one network call each time.
        float[] first = stream.Process(input.AsSpan(0, 1600));
        var failed = Assert.Throws<InvalidOperationException>(() => stream.Process(input.AsSpan(1600, 1600)));
        var next = Assert.Throws<InvalidOperationException>(() => stream.Process(input.AsSpan(3200, 1600)));
        var complete = Assert.Throws<InvalidOperationException>(() => stream.Complete());

        Assert.NotEmpty(first);
        Assert.Contains("to return a mask of shape [1, 3, 513]", failed.Message);
        Assert.All(new[] { next, complete }, e =>
        {
            Assert.StartsWith("An earlier call of this stream failed (InvalidOperationException: Expected OneBinMaskNetwork", e.Message);
            Assert.EndsWith("its output would have a gap. Create a new stream.", e.Message);
            Assert.Same(failed, e.InnerException);
        });
        Assert.Equal(first.Length, stream.SamplesOut);   // nothing of the failed block was counted as given out
    }

    [Fact]
    public void Stream_AtAnotherRate_NetworkFailure_RefusesLaterCallsToo()
    {
        using var denoiser = new Denoiser(new OneBinMaskNetwork(DenoisingFixtures.TinyGru(), failAt: 2), maxFramesPerBatch: 3);
        float[] input = Noisy(48000);
        using IStreamingDenoiser stream = denoiser.CreateStream(48000);

        // Blocks of 0.1 s until the second network call has been made (and failed); the resampler hands the engine
        // blocks of its own sizes, so which block that is, and how many frames that call had, is not fixed here.
        Exception? failed = null;
        int fed = 0;
        while (failed is null && fed < input.Length)
        {
            failed = Record.Exception(() => stream.Process(input.AsSpan(fed, 4800)));
            fed += 4800;
        }

        var next = Assert.Throws<InvalidOperationException>(() => stream.Process(input.AsSpan(0, 480)));

        Assert.IsType<InvalidOperationException>(failed);
        Assert.Contains(", 513] (batch, frames, bins); found [1, ", failed.Message);
        Assert.StartsWith("An earlier call of this stream failed", next.Message);
        Assert.Same(failed, next.InnerException);
    }

    [Fact]
    public void TrainingLoss_NetworkForwardGivesOneBin_ThrowsInsteadOfBroadcasting()
    {
        var mixer = new OnTheFlyMixer([DenoisingFixtures.Tone(12000, 1), DenoisingFixtures.Tone(12000, 2)], [DenoisingFixtures.Noise(8000, 3)]);
        var options = new DenoisingTrainingOptions { BatchSize = 2, BatchesPerEpoch = 1, MaxSegmentSamples = 4096 };
        var problem = new DenoisingTrainingProblem([], mixer, [mixer.Mix(new Random(1))], options);
        using var model = new OneBinMaskNetwork(DenoisingFixtures.TinyGru(), failAt: 0, badForward: true);
        DenoisingBatch batch = problem.TrainBatches(0, new Random(2)).First();

        var e = Assert.Throws<InvalidOperationException>(() => problem.Loss(model, batch));

        // 4,096 samples: 1 + 4096 / 512 = 9 centred frames per row.
        Assert.Contains("Expected OneBinMaskNetwork ('one-bin-mask').forward to return a mask of shape [2, 9, 513] (batch, frames, bins); found [2, 9, 1]", e.Message);
    }

    [Fact]
    public void DenoiseFile_NetworkFailsPartWay_LeavesNoFileBehind()
    {
        using var folder = new TempFolder();
        string input = folder.File("noisy.wav");
        string output = folder.File("out.wav");
        WavFile.Write(input, Noisy(16000), DenoisingFixtures.Rate);
        using var denoiser = new Denoiser(new OneBinMaskNetwork(DenoisingFixtures.TinyGru(), failAt: 2), maxFramesPerBatch: 3);

        var e = Assert.Throws<InvalidOperationException>(() => denoiser.DenoiseFile(input, output));

        Assert.Contains("to return a mask of shape [1, 3, 513]", e.Message);
        Assert.Equal(["noisy.wav"], Directory.GetFiles(folder.Path).Select(Path.GetFileName));
    }

    /// <summary>A tiny GRU mask network whose masks come back in float64, of the right shape.</summary>
    private sealed class Float64MaskNetwork : nn.Module<Tensor, Tensor>, IMaskNetwork
    {
        private readonly IMaskNetwork _inner;

        public Float64MaskNetwork(IMaskNetwork inner)
            : base("float64-mask")
        {
            _inner = inner;
            register_module("inner", (nn.Module)inner);
        }

        public string Architecture => "float64-mask";

        public int Bins => _inner.Bins;

        public int LookaheadFrames => _inner.LookaheadFrames;

        public bool NormalizesInput => false;

        public void SetInputStatistics(FeatureStatistics statistics) => throw new InvalidOperationException("not used");

        public override Tensor forward(Tensor magnitude) => _inner.forward(magnitude).to(ScalarType.Float64);

        public Tensor ForwardContinued(Tensor magnitude, Tensor? state, out Tensor? nextState) =>
            _inner.ForwardContinued(magnitude, state, out nextState).to(ScalarType.Float64);

        public Tensor Flush(Tensor? state, long batch) => _inner.Flush(state, batch).to(ScalarType.Float64);
    }

    [Fact]
    public void Denoise_Float64Mask_ThrowsNamingTheNetworkAndBothTypesInsteadOfReinterpretingBytes()
    {
        // A float64 mask makes the masked spectrum complex128 and its inverse float64; read as float32 bytes, it would
        // give twice as many samples of nonsense.
        using var denoiser = new Denoiser(new Float64MaskNetwork(DenoisingFixtures.TinyGru()));

        var e = Assert.Throws<InvalidOperationException>(() => denoiser.Denoise(Noisy(4000), DenoisingFixtures.Rate));

        Assert.Contains("Expected Float64MaskNetwork (", e.Message);
        Assert.Contains(").ForwardContinued to return a float32 mask (the dtype of the spectra it masks); found Float64", e.Message);
    }

    [Fact]
    public void TrainingLoss_Float64Mask_ThrowsNamingForward()
    {
        var mixer = new OnTheFlyMixer([DenoisingFixtures.Tone(12000, 1)], [DenoisingFixtures.Noise(8000, 3)]);
        var problem = new DenoisingTrainingProblem([], mixer, [mixer.Mix(new Random(1))], new DenoisingTrainingOptions { BatchSize = 1, BatchesPerEpoch = 1, MaxSegmentSamples = 4096 });
        using var model = new Float64MaskNetwork(DenoisingFixtures.TinyGru());

        var e = Assert.Throws<InvalidOperationException>(() => problem.Loss(model, problem.TrainBatches(0, new Random(2)).First()));

        Assert.Contains(").forward to return a float32 mask (the dtype of the spectra it masks); found Float64", e.Message);
    }

    [Fact]
    public void Stream_FlushFailsInComplete_ALaterCompleteRefusesInsteadOfGivingNothing()
    {
        // Lookahead 2: the last two frames' masks come from Flush, which Complete calls; it returns one bin. A second
        // Complete must not return an empty array, which would pass for the end of a whole output.
        using var denoiser = new Denoiser(new OneBinMaskNetwork(DenoisingFixtures.TinyLookaheadGru(2), failAt: 0, badFlush: true));
        using IStreamingDenoiser stream = denoiser.CreateStream();
        stream.Process(Noisy(4000));

        var failed = Assert.Throws<InvalidOperationException>(() => stream.Complete());
        var again = Assert.Throws<InvalidOperationException>(() => stream.Complete());
        var more = Assert.Throws<InvalidOperationException>(() => stream.Process(new float[10]));

        Assert.Contains("('one-bin-mask').Flush to return a mask of shape [1, 2, 513] (batch, frames, bins); found [1, 2, 1]", failed.Message);
        // Both later calls name the failure (not merely that Complete was called).
        Assert.All(new[] { again, more }, e =>
        {
            Assert.StartsWith("An earlier call of this stream failed (InvalidOperationException: Expected OneBinMaskNetwork", e.Message);
            Assert.Same(failed, e.InnerException);
        });
    }
}
