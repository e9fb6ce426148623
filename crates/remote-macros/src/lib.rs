//! `sagemaker-remote-macros`: the `#[remote]` attribute of the `sagemaker` SDK.
//!
//! Use it through the facade as `#[sagemaker::remote(...)]`; the runtime half (settings,
//! payloads, the executor, `init()`) lives in `sagemaker-remote`, re-exported as
//! `sagemaker::remote`. See that crate for what the attribute generates.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::{format_ident, quote};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    Expr, ExprArray, ExprLit, FnArg, GenericArgument, ItemFn, Lit, MetaNameValue, Pat,
    PathArguments, ReturnType, Token, Type, Visibility,
};

const STRING_KEYS: &[&str] = &[
    "instance_type",
    "image_uri",
    "job_name_prefix",
    "role",
    "s3_root_uri",
    "dependencies",
];
const INT_KEYS: &[&str] = &[
    "instance_count",
    "max_runtime_in_seconds",
    "max_retry_attempts",
    "volume_size",
    "keep_alive_period_in_seconds",
    "max_wait_time_in_seconds",
];
const BOOL_KEYS: &[&str] = &["use_spot_instances", "include_local_workdir"];
const PAIR_KEYS: &[&str] = &["environment_variables", "tags"];
const OTHER_KEYS: &[&str] = &["settings", "crate", "name"];

/// Runs the function as a SageMaker training job when called.
///
/// ```ignore
/// #[sagemaker::remote(instance_type = "ml.m5.large", job_name_prefix = "train")]
/// fn train(rows: Vec<Vec<f64>>, labels: Vec<u32>) -> Result<Vec<u8>, String> { /* ... */ }
///
/// // elsewhere, in async code, after `sagemaker::remote::init()` ran first in `main`:
/// let model = train(rows, labels).await?;            // Result<Vec<u8>, RemoteError<String>>
/// let f = train::function();                          // the registered function, for executors
/// ```
///
/// The function must be a plain (not `async`, not generic) module-level `fn` whose arguments
/// are `Serialize + DeserializeOwned` and whose return type is written `Result<T, E>` with
/// both `T` and `E` serializable. Settings: `instance_type`, `image_uri`, `job_name_prefix`,
/// `role`, `s3_root_uri`, `dependencies` (strings); `instance_count`,
/// `max_runtime_in_seconds`, `max_retry_attempts`, `volume_size`,
/// `keep_alive_period_in_seconds`, `max_wait_time_in_seconds` (integers);
/// `use_spot_instances`, `include_local_workdir` (booleans); `environment_variables` and
/// `tags` (arrays of `"KEY=VALUE"` strings); `settings = path::to::fn` (a
/// `fn() -> sagemaker::Result<RemoteSettings>` the other settings are applied on top of, e.g.
/// to give a session); `name = "..."` (the registered name, default
/// `module_path::function`); `crate = path` (where `sagemaker::remote` is, default
/// `::sagemaker::remote`).
#[proc_macro_attribute]
pub fn remote(attr: TokenStream, item: TokenStream) -> TokenStream {
    match expand(attr.into(), item.into()) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

fn lit_str(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s.value()),
        _ => None,
    }
}

fn expand(attr: TokenStream2, item: TokenStream2) -> syn::Result<TokenStream2> {
    let args = Punctuated::<MetaNameValue, Token![,]>::parse_terminated.parse2(attr)?;
    let func: ItemFn = syn::parse2(item)?;

    let mut krate: syn::Path = syn::parse_quote!(::sagemaker::remote);
    let mut base: Option<syn::Path> = None;
    let mut name_override: Option<String> = None;
    let mut setters = Vec::new();
    for nv in &args {
        let key = nv
            .path
            .get_ident()
            .map(|i| i.to_string())
            .ok_or_else(|| syn::Error::new(nv.path.span(), "expected a setting name"))?;
        let value = &nv.value;
        let k = key.as_str();
        if k == "crate" || k == "settings" {
            let path = match value {
                Expr::Path(p) => p.path.clone(),
                _ => match lit_str(value) {
                    Some(s) => syn::parse_str(&s)?,
                    None => return Err(syn::Error::new(value.span(), "expected a path")),
                },
            };
            if k == "crate" {
                krate = path;
            } else {
                base = Some(path);
            }
        } else if k == "name" {
            name_override = Some(
                lit_str(value)
                    .ok_or_else(|| syn::Error::new(value.span(), "`name` takes a string"))?,
            );
        } else if STRING_KEYS.contains(&k) {
            let s = lit_str(value).ok_or_else(|| {
                syn::Error::new(value.span(), format!("`{k}` takes a string literal"))
            })?;
            let setter = format_ident!("{}", k);
            setters.push(quote!(.#setter(#s)));
        } else if INT_KEYS.contains(&k) {
            let Expr::Lit(ExprLit {
                lit: Lit::Int(i), ..
            }) = value
            else {
                return Err(syn::Error::new(
                    value.span(),
                    format!("`{k}` takes an integer literal"),
                ));
            };
            let setter = format_ident!("{}", k);
            let n: u64 = i.base10_parse()?;
            if matches!(k, "instance_count" | "max_retry_attempts" | "volume_size") {
                let n = u32::try_from(n)
                    .map_err(|_| syn::Error::new(i.span(), format!("`{k}` is too large")))?;
                setters.push(quote!(.#setter(#n)));
            } else {
                setters.push(quote!(.#setter(#n)));
            }
        } else if BOOL_KEYS.contains(&k) {
            let Expr::Lit(ExprLit {
                lit: Lit::Bool(b), ..
            }) = value
            else {
                return Err(syn::Error::new(
                    value.span(),
                    format!("`{k}` takes `true` or `false`"),
                ));
            };
            let setter = format_ident!("{}", k);
            let b = b.value;
            setters.push(quote!(.#setter(#b)));
        } else if PAIR_KEYS.contains(&k) {
            let Expr::Array(ExprArray { elems, .. }) = value else {
                return Err(syn::Error::new(
                    value.span(),
                    format!("`{k}` takes an array of \"KEY=VALUE\" strings"),
                ));
            };
            let setter = if k == "tags" {
                format_ident!("tag")
            } else {
                format_ident!("environment_variable")
            };
            for e in elems {
                let s = lit_str(e).ok_or_else(|| {
                    syn::Error::new(e.span(), "expected a \"KEY=VALUE\" string literal")
                })?;
                let Some((key, val)) = s.split_once('=') else {
                    return Err(syn::Error::new(
                        e.span(),
                        format!("`{s}` has no '=': write \"KEY=VALUE\""),
                    ));
                };
                setters.push(quote!(.#setter(#key, #val)));
            }
        } else {
            let mut known: Vec<&str> = STRING_KEYS
                .iter()
                .chain(INT_KEYS)
                .chain(BOOL_KEYS)
                .chain(PAIR_KEYS)
                .chain(OTHER_KEYS)
                .copied()
                .collect();
            known.sort_unstable();
            return Err(syn::Error::new(
                nv.path.span(),
                format!("unknown remote setting `{k}`; known: {}", known.join(", ")),
            ));
        }
    }

    let sig = &func.sig;
    if let Some(a) = &sig.asyncness {
        return Err(syn::Error::new(
            a.span(),
            "#[remote] takes a plain `fn`: the generated function is the `async` one",
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(syn::Error::new(
            sig.generics.span(),
            "#[remote] functions cannot be generic: the job must know the concrete types",
        ));
    }
    if let Some(v) = &sig.variadic {
        return Err(syn::Error::new(
            v.span(),
            "#[remote] functions cannot be variadic",
        ));
    }
    let (ok_ty, err_ty) = result_types(&sig.output)?;

    let mut tys = Vec::new();
    let mut params = Vec::new();
    for (i, arg) in sig.inputs.iter().enumerate() {
        match arg {
            FnArg::Receiver(r) => {
                return Err(syn::Error::new(
                    r.span(),
                    "#[remote] functions cannot take `self`",
                ));
            }
            FnArg::Typed(pt) => {
                if let Type::ImplTrait(_) = &*pt.ty {
                    return Err(syn::Error::new(
                        pt.ty.span(),
                        "#[remote] arguments need concrete types, not `impl Trait`",
                    ));
                }
                tys.push((*pt.ty).clone());
                let ident = match &*pt.pat {
                    Pat::Ident(pi) if pi.subpat.is_none() => pi.ident.clone(),
                    _ => format_ident!("__arg{}", i),
                };
                params.push(ident);
            }
        }
    }

    let vis = &func.vis;
    let ident = &sig.ident;
    let fn_name = ident.to_string();
    let attrs = &func.attrs;
    let block = &func.block;
    let inputs = &sig.inputs;
    let output = &sig.output;
    let body_fn = format_ident!("__sagemaker_remote_body_{}", ident);
    let call_fn = format_ident!("__sagemaker_remote_call_{}", ident);
    let run_fn = format_ident!("__sagemaker_remote_run_{}", ident);
    let settings_fn = format_ident!("__sagemaker_remote_settings_{}", ident);
    let static_ident = format_ident!("__SAGEMAKER_REMOTE_{}", ident);
    let alias = format_ident!("__SagemakerRemoteFunction_{}", ident);
    let indices = (0..tys.len()).map(syn::Index::from);
    let name_expr = match &name_override {
        Some(n) => quote!(#n),
        None => quote!(::core::concat!(::core::module_path!(), "::", #fn_name)),
    };
    let binver = quote!(::core::concat!(
        ::core::env!("CARGO_PKG_NAME"),
        "@",
        ::core::env!("CARGO_PKG_VERSION")
    ));
    let base_expr = match &base {
        Some(p) => quote!(#p()?.to_builder()),
        None => quote!(#krate::RemoteSettings::builder()),
    };
    let inner_vis = match vis {
        Visibility::Inherited => quote!(pub(super)),
        Visibility::Public(_) => quote!(pub),
        Visibility::Restricted(_) => quote!(pub(crate)),
    };
    let function_doc = format!(
        "The remote function registered by `#[remote] fn {fn_name}`: give it to a \
         `RemoteExecutor`, or call it with other settings."
    );
    let mod_doc = format!("The remote function behind [`{fn_name}()`].");

    Ok(quote! {
        #[doc(hidden)]
        #[allow(non_snake_case, clippy::needless_pass_by_value)]
        fn #body_fn(#inputs) #output #block

        #[doc(hidden)]
        #[allow(non_snake_case)]
        fn #call_fn(args: (#(#tys,)*)) -> ::core::result::Result<#ok_ty, #err_ty> {
            #body_fn(#(args.#indices),*)
        }

        #[doc(hidden)]
        #[allow(non_snake_case)]
        fn #settings_fn() -> ::core::result::Result<#krate::RemoteSettings, #krate::__private::Error> {
            #base_expr #(#setters)* .build()
        }

        #[doc(hidden)]
        #[allow(non_snake_case)]
        fn #run_fn(payload: &[u8]) -> #krate::__private::RunOutcome {
            #static_ident.run_payload(payload)
        }

        #[doc = "The remote function type generated by `#[remote]`."]
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis type #alias = #krate::RemoteFunction<(#(#tys,)*), #ok_ty, #err_ty>;

        #[doc = "The remote function generated by `#[remote]`."]
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        #vis static #static_ident: #alias = #krate::RemoteFunction::new(
            #name_expr,
            #binver,
            #settings_fn,
            #call_fn,
        );

        #krate::__private::inventory::submit! {
            #krate::__private::Registration::new(#name_expr, #binver, #run_fn)
        }

        #(#attrs)*
        #vis async fn #ident(#(#params: #tys),*)
            -> ::core::result::Result<#ok_ty, #krate::RemoteError<#err_ty>>
        {
            #static_ident.call((#(#params,)*)).await
        }

        #[doc = #mod_doc]
        #[allow(dead_code)]
        #vis mod #ident {
            #[doc = #function_doc]
            #[allow(dead_code)]
            #inner_vis fn function() -> &'static super::#alias {
                &super::#static_ident
            }
        }
    })
}

/// `T` and `E` of a `Result<T, E>` return type.
fn result_types(output: &ReturnType) -> syn::Result<(Type, Type)> {
    let err = || {
        syn::Error::new(
            output.span(),
            "#[remote] functions return `Result<T, E>` (written with both types), with T and E serializable",
        )
    };
    let ReturnType::Type(_, ty) = output else {
        return Err(err());
    };
    let Type::Path(tp) = &**ty else {
        return Err(err());
    };
    let last = tp.path.segments.last().ok_or_else(err)?;
    if last.ident != "Result" {
        return Err(err());
    }
    let PathArguments::AngleBracketed(ab) = &last.arguments else {
        return Err(err());
    };
    let types: Vec<Type> = ab
        .args
        .iter()
        .filter_map(|a| match a {
            GenericArgument::Type(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    match <[Type; 2]>::try_from(types) {
        Ok([t, e]) => Ok((t, e)),
        Err(_) => Err(err()),
    }
}
