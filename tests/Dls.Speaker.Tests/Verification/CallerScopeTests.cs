using Dls.Speaker.Compression;
using Dls.Speaker.Encoders;
using Dls.Speaker.Verification;
using static TorchSharp.torch;

namespace Dls.Speaker.Tests.Verification;

/// <summary>
/// A verifier or encoder made inside a caller's per-call dispose scope must outlive it: TorchSharp's nn.GRU leaves its
/// parameters in the scope open at construction, which used to kill the shipped model with the caller's scope.
/// </summary>
[Collection("TorchGlobalState")]
public sealed class CallerScopeTests
{
    [Fact]
    public void ShippedVerifier_LoadedInsideAScope_EmbedsAfterItClosesAsOneLoadedOutside()
    {
        float[] voice = TestAudio.Voice(140, 0.5, 2.0, seed: 3);
        SpeakerVerifier verifier;
        using (NewDisposeScope())
        {
            verifier = SpeakerVerifier.Load();
        }

        using (verifier)
        using (var reference = SpeakerVerifier.Load())
        {
            Assert.Equal(reference.Embed(voice, 16000), verifier.Embed(voice, 16000));
        }
    }

    [Fact]
    public void EncoderAndItsCompressedCopy_MadeInsideAScope_RunAfterwards()
    {
        GruSpeakerEncoder encoder, compressed;
        using (NewDisposeScope())
        {
            encoder = new GruSpeakerEncoder(TestModels.Tiny with { HiddenSize = 16 });
            compressed = SpeakerEncoderCompression.Compress(encoder, inputRank: 8, outputRank: 4);
        }

        using (encoder)
        using (compressed)
        using (NewDisposeScope())
        using (no_grad())
        {
            encoder.eval();
            compressed.eval();
            var x = randn(1, 12, 513);
            var lengths = tensor(new long[] { 12 });
            Assert.Equal([1L, 6L], encoder.forward(x, lengths).shape);
            Assert.Equal([1L, 6L], compressed.forward(x, lengths).shape);
        }
    }

    [Fact]
    public void EnrollVerifyAndEmbedMany_RepeatedCalls_LeaveNoLiveTensors()
    {
        using var verifier = new SpeakerVerifier(new SpeakerEmbedder(TestModels.Random()), threshold: 0.5);
        float[] a = TestAudio.Voice(150, 1, 1.0, 1), b = TestAudio.Voice(210, 0.5, 1.2, 2), longer = TestAudio.Voice(150, 1, 4.0, 3);
        void Calls()
        {
            var enrolled = verifier.Enroll([a, b], TestAudio.Rate);
            verifier.Verify(enrolled, longer, TestAudio.Rate);
            verifier.Embedder.EmbedMany([a, b, longer], TestAudio.Rate);
        }

        Calls();   // warm-up (lazy buffers, the first-call caches)
        long before = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 10; i++) Calls();
        Assert.Equal(before, TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
