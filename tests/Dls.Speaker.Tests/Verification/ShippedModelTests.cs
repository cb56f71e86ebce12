using Dls.Speaker.Verification;
using Microsoft.Extensions.DependencyInjection;

namespace Dls.Speaker.Tests.Verification;

[Collection("TorchGlobalState")]
public sealed class ShippedModelTests
{
    private static string Data(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", name);

    [Fact]
    public void DefaultVerifier_UnseenSpeakers_AcceptsSameAndRejectsDifferent()
    {
        var services = new ServiceCollection();
        services.AddDlsSpeakerVerifier();
        using var provider = services.BuildServiceProvider();
        var verifier = provider.GetRequiredService<ISpeakerVerifier>();
        var ked = verifier.EnrollFiles([Data("fest_ked_000.wav")]);
        var same = verifier.VerifyFile(ked, Data("fest_ked_001.wav"));
        var different = verifier.VerifyFile(ked, Data("espk_us_m4_000.wav"));
        Assert.True(same.IsSameSpeaker, $"same-speaker score {same.Score:F3} below threshold {same.Threshold:F3}");
        Assert.False(different.IsSameSpeaker, $"different-speaker score {different.Score:F3} above threshold {different.Threshold:F3}");
        Assert.True(same.Score > different.Score);
    }
}
