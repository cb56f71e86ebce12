namespace Dls.Models.Denoising;

/// <summary>
/// The call-order rules both denoising streams keep (<see cref="StreamingDenoiser"/>, <see cref="ResampledStreamingDenoiser"/>):
/// no block after <c>Complete</c>; <c>Complete</c> needs a sample first, and a second one gives nothing; and nothing at
/// all after a call that failed part-way, because the output since would have a gap.
/// </summary>
internal sealed class StreamCallGuard
{
    private Exception? _fault;   // what broke an earlier call

    /// <summary>Whether <c>Complete</c> was called (and got past its checks).</summary>
    public bool Completed { get; private set; }

    /// <summary>Refuses a block after a failed call or after <c>Complete</c>.</summary>
    public void BeforeProcess()
    {
        ThrowIfFaulted();   // first: after a failed Complete, the failure is the news, not that Complete was called
        if (Completed)
        {
            throw new InvalidOperationException("Complete() was already called; create a new stream for more audio.");
        }
    }

    /// <summary>
    /// Whether a <c>Complete</c> call has anything to do: false when the stream already completed (the call returns
    /// nothing). A failed earlier call is refused first: a failed Complete has set <see cref="Completed"/>, and an empty
    /// array then would pass for the rest of an output that has a gap.
    /// </summary>
    public bool ShouldComplete()
    {
        ThrowIfFaulted();
        return !Completed;
    }

    /// <summary>Marks the stream completed, once it received at least one sample.</summary>
    /// <param name="samplesIn">The samples the stream received.</param>
    public void BeginComplete(long samplesIn)
    {
        if (samplesIn == 0)
        {
            throw new InvalidOperationException("The stream received no samples (expected at least 1 before Complete()).");
        }

        Completed = true;
    }

    /// <summary>
    /// Records the failure of a call that may have passed part of its samples on. Meant as an exception filter
    /// (<c>catch (Exception e) when (guard.Fail(e))</c>): it returns false, so the exception goes on unchanged.
    /// </summary>
    public bool Fail(Exception e)
    {
        _fault ??= e;
        return false;
    }

    /// <summary>Refuses a call after an earlier one failed.</summary>
    public void ThrowIfFaulted()
    {
        if (_fault is not null)
        {
            throw new InvalidOperationException(
                $"An earlier call of this stream failed ({_fault.GetType().Name}: {_fault.Message}); its output would have a gap. Create a new stream.", _fault);
        }
    }
}
