using System.Net;
using AiPrompts.Web.Localization;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.Localization;

namespace AiPrompts.Web.ApiAccess;

/// <summary>
/// A console page that calls the Api. <see cref="CallAsync{TAnswer}"/> is the one way a page handles what a call can
/// end in: the session ended (sign in again, back to this page), the Api unreachable (a readable message), a refusal
/// (the Api's own message, in the user's language), a 404 (<see cref="NotFound"/>: missing or not the user's), the
/// page left (nothing).
/// </summary>
public abstract class ConsolePage : ComponentBase, IDisposable
{
    private readonly CancellationTokenSource _leaving = new();
    private int _asked;

    [Inject] protected ConsoleApi Api { get; set; } = null!;

    [Inject] protected NavigationManager Navigation { get; set; } = null!;

    [Inject] private IStringLocalizer<Text> Texts { get; set; } = null!;

    /// <summary>What went wrong with the last call, for the page to show; null when it worked.</summary>
    protected string? Error { get; set; }

    /// <summary>The Api answered 404: the thing is missing or belongs to someone else.</summary>
    protected bool NotFound { get; private set; }

    /// <summary>The page is live (after prerendering); it marks itself with <c>data-interactive</c> for tools and tests.</summary>
    protected bool Interactive { get; private set; }

    /// <summary>Cancelled when the page is left.</summary>
    protected CancellationToken Leaving => _leaving.Token;

    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender)
        {
            Interactive = true;
            StateHasChanged();
            OnInteractive();
        }
    }

    /// <summary>Called once the page is live.</summary>
    protected virtual void OnInteractive()
    {
    }

    /// <summary>Calls the Api; answers null when the call did not work (and says why in <see cref="Error"/>).</summary>
    protected Task<TAnswer?> CallAsync<TAnswer>(Func<CancellationToken, Task<TAnswer>> call) where TAnswer : class =>
        CallAsync(call, stillWanted: static () => true);

    /// <summary>
    /// Like <see cref="CallAsync{TAnswer}"/>, for what the user may ask again before the answer comes (a filter changed
    /// while the list loads): only the latest such call's answer or error reaches the page, so a slower, older answer
    /// never replaces a newer one. A superseded call answers null and says nothing.
    /// </summary>
    protected Task<TAnswer?> LatestAsync<TAnswer>(Func<CancellationToken, Task<TAnswer>> call) where TAnswer : class
    {
        var asked = ++_asked;
        return CallAsync(call, stillWanted: () => asked == _asked);
    }

    private async Task<TAnswer?> CallAsync<TAnswer>(Func<CancellationToken, Task<TAnswer>> call, Func<bool> stillWanted) where TAnswer : class
    {
        Error = null;
        try
        {
            var answer = await call(_leaving.Token);
            return stillWanted() ? answer : null;
        }
        catch (SessionEndedException)
        {
            var here = "/" + Navigation.ToBaseRelativePath(Navigation.Uri);
            Navigation.NavigateTo($"/signin?returnUrl={Uri.EscapeDataString(here)}", forceLoad: true);
        }
        catch (ApiUnavailableException) when (stillWanted())
        {
            Error = Texts["Error_Unavailable"];
        }
        catch (ApiProblemException e) when (e.Status == HttpStatusCode.NotFound && stillWanted())
        {
            NotFound = true;
            Error = e.Detail ?? Texts["NotFound_Text"];
        }
        catch (ApiProblemException e) when (stillWanted())
        {
            Error = e.Detail ?? Texts["Error_Text"];
        }
        catch (Exception e) when (e is ApiUnavailableException or ApiProblemException)
        {
            // A newer call has been made meanwhile: it speaks for the page.
        }
        catch (OperationCanceledException) when (_leaving.IsCancellationRequested)
        {
            // The page was left.
        }
        return null;
    }

    /// <summary>A call whose answer the page does not need; true when it worked.</summary>
    protected async Task<bool> CallAsync(Func<CancellationToken, Task> call) =>
        await CallAsync<object>(async cancellationToken => { await call(cancellationToken); return this; }) is not null;

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _leaving.Cancel();
            _leaving.Dispose();
        }
    }
}
