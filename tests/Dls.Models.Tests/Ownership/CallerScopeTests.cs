using Dls.Models.Checkpoints;
using Dls.Models.Denoising;
using Dls.Models.Mnist;
using Dls.Models.Tests.Denoising;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Tests.Ownership;

/// <summary>
/// Users follow "a dispose scope per call"; objects that live longer than one call (models, denoisers, streams,
/// training problems) must not leave their tensors in the scope that happened to be open when they were made or used,
/// or they die with it ("Tensor invalid" on the next call).
/// </summary>
[Collection("TorchGlobalState")]
public sealed class CallerScopeTests
{
    private static float[] Tone(int n) => Enumerable.Range(0, n).Select(i => 0.3f * MathF.Sin(i * 0.07f) + 0.01f * MathF.Sin(i * 1.3f)).ToArray();

    [Fact]
    public void DefaultDenoiser_LoadedInsideAScope_WorksAfterItCloses()
    {
        float[] audio = Tone(16000);
        Denoiser denoiser;
        using (NewDisposeScope())
        {
            denoiser = Denoiser.LoadDefault();
        }

        using (denoiser)
        {
            using var reference = Denoiser.LoadDefault();
            Assert.Equal(reference.Denoise(audio, 16000), denoiser.Denoise(audio, 16000));
        }
    }

    [Theory]
    [InlineData(true, 0)]
    [InlineData(false, 2)]   // normalized input; a mask refiner (convolutions)
    public void MaskNetwork_BuiltAndSavedInsideAScope_LoadsAndRunsAfterwards(bool normalize, int refinerChannels)
    {
        string dir = Directory.CreateTempSubdirectory("dls-scope").FullName;
        try
        {
            string path = Path.Combine(dir, "gru.ckpt");
            GruMaskNetwork network;
            using (NewDisposeScope())
            {
                network = new GruMaskNetwork(new GruMaskNetworkOptions { HiddenSize = 16, NormalizeInput = normalize, RefinerChannels = refinerChannels });
            }

            using (network)
            {
                DenoisingModels.Save(path, network);
            }

            Denoiser denoiser;
            using (NewDisposeScope())
            {
                denoiser = Denoiser.Load(path);
            }

            using (denoiser)
            {
                Assert.Equal(16000, denoiser.Denoise(Tone(16000), 16000).Length);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Stream_CreatedAndFedInsideScopes_GivesTheWholeFileResult()
    {
        using var denoiser = Denoiser.LoadDefault();
        float[] audio = Tone(16000);
        IStreamingDenoiser stream;
        using (NewDisposeScope())
        {
            stream = denoiser.CreateStream();
        }

        var output = new List<float>();
        using (stream)
        {
            for (int start = 0; start < audio.Length; start += 3000)
            {
                using var scope = NewDisposeScope();   // one scope per block, as a caller of a live stream would
                output.AddRange(stream.Process(audio.AsSpan(start, Math.Min(3000, audio.Length - start))));
            }

            output.AddRange(stream.Complete());
        }

        // As the unscoped stream test holds it (DenoiserTests): per-frame rfft/irfft against torch.stft/istft, float32
        // rounding only (~1e-7 observed); a dead state would have thrown instead.
        Assert.True(DenoisingFixtures.MaxAbsDifference(denoiser.Denoise(audio, 16000), output.ToArray()) < 1e-5f);
    }

    [Fact]
    public void MnistTrainingProblem_MadeInsideAScope_ValidatesAfterwards()
    {
        var split = new MnistSplit(Enumerable.Range(0, 784 * 20).Select(i => (byte)(i % 251)).ToArray(), Enumerable.Range(0, 20).Select(i => (byte)(i % 10)).ToArray(), 28, 28);
        MnistTrainingProblem problem;
        using (NewDisposeScope())
        {
            problem = new MnistTrainingProblem(split, split, 8);
        }

        using (problem)
        using (var model = new MnistMlp(new MnistMlpOptions { HiddenSize = 8, HiddenLayers = 1 }))
        {
            var metrics = problem.Validate(model, CancellationToken.None);
            Assert.InRange(metrics["val_acc"], 0, 1);
        }
    }

    [Fact]
    public void FileDenoisingEvaluationAndCheckpoints_RepeatedCalls_LeaveNoLiveTensors()
    {
        string dir = Directory.CreateTempSubdirectory("dls-leak").FullName;
        try
        {
            using var denoiser = new Denoiser(DenoisingFixtures.TinyGru());
            float[] clean = DenoisingFixtures.Tone(8000), noise = DenoisingFixtures.Noise(8000);
            var examples = new[] { new DenoisingExample("a", DenoisingFixtures.Add(clean, noise), clean, noise) };
            string input = Path.Combine(dir, "in.wav"), output = Path.Combine(dir, "out.wav"), checkpoint = Path.Combine(dir, "m.ckpt");
            Dls.Audio.IO.AudioFile.Save(input, new Dls.Audio.AudioSignal(examples[0].Noisy, DenoisingFixtures.Rate));
            void Calls()
            {
                denoiser.DenoiseFile(input, output);
                DenoisingEvaluation.Evaluate(examples, x => denoiser.Denoise(x, DenoisingFixtures.Rate), includeOracles: true);
                DenoisingModels.Save(checkpoint, denoiser.Network);
                using var reloaded = Denoiser.Load(checkpoint);
            }

            Calls();
            long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            for (int i = 0; i < 5; i++) Calls();
            Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

