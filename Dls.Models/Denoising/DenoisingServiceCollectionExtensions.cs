using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Dls.Models.Denoising;

/// <summary>Registers the denoiser in a service collection.</summary>
public static class DenoisingServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IDenoiser"/> as a lazily created singleton (disposed with the container) and validates
    /// <see cref="DenoiserOptions"/> on start. Calling it again adds the extra configuration but registers once.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the options (none: the shipped default model).</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddDlsDenoiser(this IServiceCollection services, Action<DenoiserOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        DenoisingModels.RegisterArchitectures();
        OptionsBuilder<DenoiserOptions> builder = services.AddOptions<DenoiserOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        builder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DenoiserOptions>, DenoiserOptionsValidator>());
        services.TryAddSingleton<IDenoiser>(sp =>
        {
            DenoiserOptions o = sp.GetRequiredService<IOptions<DenoiserOptions>>().Value;
            Denoiser denoiser = o.ModelPath is null ? Denoiser.LoadDefault(o.MaxFramesPerBatch) : Denoiser.Load(o.ModelPath, o.MaxFramesPerBatch);
            denoiser.OutputSampleRate = o.OutputSampleRate;
            return denoiser;
        });
        return services;
    }
}
