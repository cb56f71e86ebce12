using Dls.Models.Denoising;
using TorchSharp;

namespace Dls.Models.Tests.Denoising;

/// <summary>
/// The engine behind every denoising path (internal): its own contract, which the public paths keep by construction
/// (each makes a new engine per signal or stream, and refuses calls after Complete before they reach it).
/// </summary>
public sealed class MaskingStreamTests
{
    [Fact]
    public void Push_AfterComplete_Throws()
    {
        var network = DenoisingFixtures.TinyGru();
        using var module = (torch.nn.Module)network;
        long received = 0;
        using var engine = new MaskingStream(network, s => received += s.Length);
        engine.Push(DenoisingFixtures.Tone(2000));
        engine.Complete();

        var e = Assert.Throws<InvalidOperationException>(() => engine.Push(new float[10]));

        Assert.Contains("The stream was already completed; start a new one", e.Message);
        Assert.Equal(2000, received);   // everything pushed before Complete came out, nothing after
    }
}
